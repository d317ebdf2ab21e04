"""The desk's import page (admins): ``/desk/import`` takes police.uk files, the street,
outcomes and stop-and-search CSVs (``.csv`` or ``.csv.gz``) or police.uk's archive zips, as
the import command takes them, imports them while the admin waits (a month of a force takes
seconds) and shows what each file did, the import command's table.

The upload is written to a private temporary folder as it arrives (``web/uploads.py``: each
file under its own base name, other kinds of file refused by name, at most
``settings.UPLOAD_MAX_BYTES`` together, the form's CSRF token checked before any file is
written), imported where this deployment imports (:meth:`Database.importing`: the app's own
file under the write lock, or with a database a copy switched in whole), and the folder is
removed whatever happens. A refused file or import is said on the page in one message and
leaves the store as it was: each month is stored whole or not at all, and with a database the
import is switched in whole or not at all. The log gets counts only: no user, no file."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from beatbook import settings
from beatbook.errors import BeatBookError
from beatbook.figures import dashboard
from beatbook.ingest.files import FileResult, result_notes
from beatbook.ingest.policeuk_csv import ingest
from beatbook.users import User
from beatbook.web import uploads
from beatbook.web.db import Database
from beatbook.web.deps import ReadStore, check_csrf, database, render, require
from beatbook.web.routes.desk_common import back, flash, month_words

router = APIRouter()
PAGE = "/desk/import"
Admin = Annotated[User, require("import_data")]
log = logging.getLogger("beatbook.web.import")
REPLACE_BOX = "“Replace stored months even with markedly fewer rows” ticked"


def _page(request: Request, **context: Any) -> Response:
    limit = settings.UPLOAD_MAX_BYTES
    return render(
        request,
        "desk_import.html.j2",
        {
            "tab": "import",
            "limit": limit,
            "limit_words": uploads.size_words(limit),
            "switched": database(request).database is not None,
            **context,
        },
    )


@router.get(PAGE)
def import_page(request: Request, store: ReadStore, user: Admin) -> Response:
    months = dashboard.month_choices(store)
    latest = month_words(months[0]) if months else None
    return _page(request, months=len(months), latest=latest, flash=flash(request))


def _import(db: Database, files: list[Path], replace: bool) -> list[FileResult]:
    with db.importing() as store:
        return ingest(store, files, replace=replace)


def _message(exc: BeatBookError, folder: Path) -> str:
    """The refusal in the page's words: files by their names, not the server's folder."""
    text = str(exc).replace(f"{folder}{os.sep}", "").replace(str(folder), "the upload")
    return text.replace(
        "run the import again with --replace", f"import them again with {REPLACE_BOX}"
    )


@router.post(PAGE)
async def import_files(request: Request, user: Admin) -> Response:
    """Receive the files, import them, show what each did. Runs while the admin waits."""
    folder = Path(tempfile.mkdtemp(prefix="beatbook-upload-"))  # the user's own: mode 0700
    try:
        upload = await uploads.receive(
            request,
            folder,
            limit=settings.UPLOAD_MAX_BYTES,
            check_token=lambda token: check_csrf(request, token),
        )
        replace = upload.fields.get("replace") == "yes"
        with anyio.CancelScope(shield=True):  # a browser gone away: the import ends first
            results = await run_in_threadpool(_import, database(request), upload.files, replace)
    except BeatBookError as exc:
        return back(request, PAGE, _message(exc, folder), error=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    stored = sum(r.rows_stored for r in results)
    quarantined = sum(r.rows_quarantined for r in results)
    log.info(
        "desk import: %d files, %d rows stored, %d quarantined", len(results), stored, quarantined
    )
    rows = [
        {
            "file": Path(r.file).name,
            "kind": r.kind,
            "force": r.force,
            "month": ", ".join(r.months),
            "stored": r.rows_stored,
            "quarantined": r.rows_quarantined,
            "status": r.status_text(),
        }
        for r in results
    ]
    return _page(
        request,
        results=rows,
        stored=stored,
        quarantined=quarantined,
        notes=result_notes(results),
        size=uploads.size_words(upload.size),
    )
