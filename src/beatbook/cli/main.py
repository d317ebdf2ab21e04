"""The ``beatbook`` command line: parses arguments, calls the library, prints.

No analysis lives here. Every command takes ``--store`` (default
``./beatbook.duckdb`` or ``$BEATBOOK_STORE``); commands that report figures
take ``--json`` and then print one JSON document with the field names
documented in docs/cli.md. Any :class:`~beatbook.errors.BeatBookError` is
printed as one line on stderr with exit code 2.
"""

from __future__ import annotations

import sys

from beatbook.cli._common import app, err
from beatbook.errors import BeatBookError

# Each command module registers its commands on ``app`` when imported; the order here is
# the order ``beatbook --help`` lists them.
# isort: off
from beatbook.cli import ingest, stats, areas, concerns, hotspots  # noqa: F401,E402
from beatbook.cli import fetch  # noqa: F401,E402
from beatbook.cli import operations, engagements, priorities, update, web  # noqa: F401,E402
from beatbook.cli import trend  # noqa: F401,E402
from beatbook.cli import check  # noqa: F401,E402
from beatbook.cli import export  # noqa: F401,E402
from beatbook.cli import db  # noqa: F401,E402

# isort: on


__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the app, turning BeatBook errors into one line and exit code 2."""
    try:
        app()
    except BeatBookError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
