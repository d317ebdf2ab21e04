"""police.uk files uploaded on the desk (``/desk/import``), written to a private folder as
they arrive.

The form is read from the request as it streams in, with python-multipart's parser (the one
Starlette uses), not through Starlette's own form reading, which would spool every file to a
temporary file of its own before the route sees any. Here the bytes are counted as they
arrive: an upload past its limit (``settings.UPLOAD_MAX_BYTES``) is refused at that byte (at
once when its declared length is already past it) and what was written is removed with the
folder by the caller.

The form's CSRF token must come before its files (the page puts it first, and browsers send
fields in the page's order): no file of a form without a valid token is written. Each file is
kept under its own name, since police.uk's names carry the month and the force, reduced to
its base name (no folder, no path): a name that is not a police.uk CSV, ``.csv.gz`` or
``.zip`` archive is refused, naming the file, before any of its bytes are written.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import parse_qs

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from beatbook.errors import InputError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

SUFFIXES = (".csv.gz", ".csv", ".zip")  # as `beatbook ingest` reads them
MAX_NAME = 200  # characters of a file's name (police.uk's are under 60)
MAX_FILES = 1000  # files in one upload (a force's 15 years of three kinds is 540)
MAX_FIELD_BYTES = 4096  # a field that is not a file (the token, a tick box)
MAX_FIELDS = 20
FORM_OVERHEAD = 64 << 10  # a form's bytes besides its files (boundaries, headers, fields)
WRITE_EVERY = 1 << 20  # bytes received before they are written to disk (off the event loop)


class UploadTooLarge(InputError):
    """The files of one upload come to more than its limit."""


def size_words(n: int) -> str:
    """1073741824 as '1 GiB', 300000 as '293 KiB'."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):,.3g} {unit}".replace(".0 ", " ")
    return f"{n:,} bytes"


def too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"the files come to more than {size_words(limit)}, the most one upload may hold: "
        "nothing was stored; upload fewer files at a time"
    )


def file_name(sent: str) -> str:
    """The name an uploaded file is kept under: the base name the browser sent (any folder
    dropped), its suffix in lower case; refused unless it is a police.uk CSV, .csv.gz or
    .zip."""
    base = re.split(r"[/\\]", sent)[-1].strip()
    shown = base[:MAX_NAME] or sent[:MAX_NAME] or "(no name)"
    if (
        not base
        or base.startswith(".")
        or len(base) > MAX_NAME
        or any(ord(c) < 32 or ord(c) == 127 for c in base)
    ):
        raise InputError(f"{shown!r}: not a usable file name; rename the file and upload it again")
    suffix = next((s for s in SUFFIXES if base.lower().endswith(s)), None)
    if suffix is None or len(base) == len(suffix):
        raise InputError(
            f"{shown}: not a police.uk file: expected a .csv, .csv.gz or .zip file as police.uk "
            "publishes them (street, outcomes or stop-and-search CSVs, or an archive)"
        )
    return base[: -len(suffix)] + suffix


@dataclass
class Upload:
    """What a form sent: its fields (not files) and the files written, in the order sent."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    size: int = 0  # bytes of the files


class _Receiver:
    """The parser's callbacks: fields kept, file parts written under ``folder``."""

    def __init__(
        self, folder: Path, limit: int, check_token: Callable[[str], None], charset: str
    ) -> None:
        self.folder, self.limit, self.charset = folder, limit, charset
        self.check_token = check_token
        self.upload = Upload()
        self.parts = 0  # parts that are not files (fields, file inputs left empty)
        self.token_checked = False
        self.header_name, self.header_value = b"", b""
        self.disposition = b""
        self.field: str | None = None  # the part is a field of this name
        self.data = bytearray()
        self.out: BinaryIO | None = None  # the part is a file, written here
        self.skip = False  # a file input left empty (sent with no name): ignored
        self.pending: list[tuple[BinaryIO, bytes]] = []
        self.pending_bytes = 0
        self.opened: list[BinaryIO] = []
        self.complete = False  # the form's closing boundary arrived

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_text,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self.disposition, self.field, self.out, self.skip = b"", None, None, False
        self.data = bytearray()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def header_text(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        if self.header_name.lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name, self.header_value = b"", b""

    def _text(self, raw: bytes) -> str:
        return raw.decode(self.charset, errors="replace")

    def headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        sent = self._text(options.get(b"filename", b""))
        if not sent:
            self.parts += 1
            if self.parts > MAX_FIELDS:
                raise InputError("the form has too many fields: reload the page and try again")
            if b"filename" in options:  # a file input left empty
                self.skip = True
            else:
                self.field = self._text(options.get(b"name", b""))
            return
        self.token()  # no byte of a file is written before the form's token holds
        name = file_name(sent)
        path = self.folder / name
        if path in self.upload.files:
            raise InputError(f"{name}: chosen twice; choose each file once")
        if len(self.upload.files) >= MAX_FILES:
            raise InputError(f"more than {MAX_FILES:,} files: upload fewer at a time")
        self.out = open(path, "xb")  # noqa: SIM115 (closed by close(), with the others)
        self.opened.append(self.out)
        self.upload.files.append(path)

    def token(self) -> None:
        if not self.token_checked:
            self.check_token(self.upload.fields.get("csrf_token", ""))
            self.token_checked = True

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.skip:
            return
        if self.out is None:
            if len(self.data) + end - start > MAX_FIELD_BYTES:
                raise InputError("a field of the form is too long: reload the page and try again")
            self.data += data[start:end]
            return
        self.upload.size += end - start
        if self.upload.size > self.limit:
            raise too_large(self.limit)
        self.pending.append((self.out, data[start:end]))
        self.pending_bytes += end - start

    def part_end(self) -> None:
        if self.field is not None:
            self.upload.fields[self.field] = self._text(bytes(self.data))

    def end(self) -> None:
        self.complete = True

    def write(self) -> None:
        """Write what was received (called off the event loop)."""
        for out, chunk in self.pending:
            out.write(chunk)
        self.pending.clear()
        self.pending_bytes = 0

    def close(self) -> None:
        for out in self.opened:
            out.close()


async def _small_form(request: Request) -> dict[str, str]:
    """A form sent without files (url-encoded), read up to a few fields' length."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FIELD_BYTES * MAX_FIELDS:
            raise InputError("choose the police.uk files to import")
    text = body.decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(text, max_num_fields=MAX_FIELDS).items()}


async def receive(
    request: Request, folder: Path, *, limit: int, check_token: Callable[[str], None]
) -> Upload:
    """The files of the request's form, written to ``folder`` (which must be empty), and its
    other fields. ``check_token`` is given the form's ``csrf_token`` before any file is
    written (or, for a form without files, once it is read) and raises to refuse it. Raises
    :class:`UploadTooLarge` past ``limit`` bytes of files and :class:`InputError` for a file
    refused by its name, a form without files or a broken form; files written before the
    refusal are left in ``folder``."""
    kind, params = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data" or b"boundary" not in params:
        fields = await _small_form(request) if kind == b"application/x-www-form-urlencoded" else {}
        check_token(fields.get("csrf_token", ""))
        raise InputError("choose the police.uk files to import")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise too_large(limit)  # said at once, before a byte is read
    charset = params.get(b"charset", b"utf-8").decode("latin-1")
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    receiver = _Receiver(folder, limit, check_token, charset)
    try:
        parser = MultipartParser(params[b"boundary"], receiver.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
            if receiver.pending_bytes >= WRITE_EVERY:
                await run_in_threadpool(receiver.write)
        parser.finalize()
        await run_in_threadpool(receiver.write)
        if not receiver.complete:
            raise ClientDisconnect()
    except (FormParserError, ClientDisconnect) as exc:
        raise InputError("the upload did not arrive whole: send it again") from exc
    finally:
        receiver.close()
    receiver.token()  # a form without files: its token still holds, or it is refused
    if not receiver.upload.files:
        raise InputError("choose the police.uk files to import")
    return receiver.upload
