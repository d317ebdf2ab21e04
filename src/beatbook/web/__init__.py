"""BeatBook's web app: the team's desk and the public pages, over the same library
functions as the command line (no analysis and no SQL here). See :func:`create_app`."""

from beatbook.web.app import create_app

__all__ = ["create_app"]
