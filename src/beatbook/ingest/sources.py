"""Finding the CSVs to import and reading their bytes: files, folders, gzip and zip archives.

Everything here works on raw bytes, outside DuckDB: which files a path names, their
header line, their sha256 (to recognise a re-import), and one bounded, streaming pass
over each file's text (:func:`scan`) that measures it and finds its empty lines (which
DuckDB's reader skips without counting). Nothing is extracted to disk: a zip member is
read from the archive as a stream, here and when DuckDB reads it (``ingest/pipes.py``).

Compressed input is bounded before anything holds it (:class:`Limits`): a zip member by
the sizes its archive declares (``zipfile`` never yields more than the declared size),
a ``.csv.gz`` by counting while it streams; either way a decompression bomb is refused
after reading at most ``MAX_FILE_BYTES``.
"""

from __future__ import annotations

import builtins
import csv
import gzip
import hashlib
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from beatbook import settings
from beatbook.errors import CSVFormatError, InputError
from beatbook.ingest.archives import Archive, check_member

CSV_SUFFIXES = (".csv", ".csv.gz")
CHUNK = 1 << 20
# What reading a damaged gzip or zip raises (zipfile's encrypted/unsupported members too).
READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile, RuntimeError, NotImplementedError)


@dataclass(frozen=True)
class Limits:
    """Bounds on what one file may decompress to (settings.py says why each is what it is).

    Tests pass small ones rather than build gigabytes.
    """

    max_file_bytes: int = settings.MAX_FILE_BYTES
    max_ratio: int = settings.MAX_RATIO
    ratio_floor: int = settings.RATIO_FLOOR_BYTES
    max_empty_lines: int = settings.MAX_EMPTY_LINES

    def cap(self, packed: int | None) -> int:
        """Most text a file of ``packed`` compressed bytes may hold (None: not compressed)."""
        if packed is None:
            return self.max_file_bytes
        return min(self.max_file_bytes, max(self.max_ratio * packed, self.ratio_floor))

    def refusal(self, name: str, size: int, packed: int | None, *, at_least: bool) -> str:
        """Why a file of ``size`` text bytes (``packed`` compressed) is refused unread."""
        more = "more than " if at_least else ""
        if size > self.max_file_bytes:
            return (
                f"{name}: decompresses to {more}{_mib(size)}, over the {_mib(self.max_file_bytes)} "
                "limit on one file (police.uk's largest monthly files are about 30 MB); "
                "refused unread"
            )
        return (
            f"{name}: decompresses to {more}{_mib(size)} from {packed:,} bytes, over the limit of "
            f"{self.max_ratio} times its compressed size (police.uk CSVs compress 5 to 15 "
            "times): refused unread as a decompression bomb"
        )


def _mib(size: int) -> str:
    return f"{size / (1 << 20):,.1f} MiB"


@dataclass(frozen=True)
class Source:
    """A CSV to read: the name shown to the user and where its bytes are.

    A file on disk (``path``; plain or gzip) or a member of a zip archive (``path`` is the
    archive, ``member`` the name inside it, ``packed`` its compressed size, ``publication``
    the archive's latest month, ``archive`` the open archive it is read from).
    """

    name: str
    path: Path
    member: str | None = None
    packed: int | None = None
    publication: str | None = None
    archive: Archive | None = field(default=None, compare=False, repr=False)

    @property
    def origin(self) -> str:
        """Where the partition it stores comes from: 'archive' or 'file'."""
        return "file" if self.member is None else "archive"

    def is_gzip(self) -> bool:
        """Whether the file on disk is gzip (by its magic number); members are read as text."""
        if self.member is not None:
            return False
        with builtins.open(self.path, "rb") as fh:
            return fh.read(2) == b"\x1f\x8b"

    def packed_size(self) -> int | None:
        """Compressed bytes the text comes from, for the ratio bound; None for a plain file."""
        if self.member is not None:
            return self.packed
        return self.path.stat().st_size if self.is_gzip() else None

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """The decompressed bytes (gzip is recognised by its magic number, not its name)."""
        with ExitStack() as stack:
            raw: Any
            if self.member is None:
                raw = stack.enter_context(builtins.open(self.path, "rb"))
            else:
                archive = self.archive or stack.enter_context(Archive(self.path))
                raw = stack.enter_context(archive.open(self.member))
            if raw.peek(2)[:2] == b"\x1f\x8b":
                raw = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
            yield raw


def find_sources(
    paths: Iterable[str | Path], tmpdir: Path, limits: Limits | None = None
) -> list[Source]:
    """Expand files, folders and zip archives into the CSVs to import, in a stable order."""
    limits = limits or Limits()
    paths = list(paths)
    sources: list[Source] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.name.endswith(CSV_SUFFIXES):
                    sources.append(Source(str(child), child))
                elif child.suffix == ".zip":
                    sources.extend(_zip_members(child, limits))
        elif path.suffix == ".zip":
            sources.extend(_zip_members(path, limits))
        else:
            sources.append(Source(str(path), path))
    if not sources:
        raise InputError("no police.uk CSV files found in " + ", ".join(str(p) for p in paths))
    return [_named_as_compressed(s, tmpdir, i) for i, s in enumerate(sources)]


def _named_as_compressed(source: Source, tmpdir: Path, index: int) -> Source:
    """DuckDB tells gzip by the name's ``.gz``: link a misnamed file under the right name."""
    if source.member is not None:
        return source
    gz = source.is_gzip()
    if gz == source.path.name.endswith(".gz"):
        return source
    link = tmpdir / f"{index}-as{'.csv.gz' if gz else '.csv'}"
    link.symlink_to(source.path.resolve())
    return Source(source.name, link)


def _zip_members(path: Path, limits: Limits) -> list[Source]:
    """The CSV members of a police.uk archive zip, bounded by their declared sizes.

    Nothing is extracted. Every CSV member must be laid out as police.uk lays out its
    archive (``archives.check_member``); the archive's publication is its latest month
    folder. ``zipfile`` never yields more than a member's declared size (and then fails
    its CRC), so refusing declared sizes over the limits bounds what any member can
    decompress to. A zip inside the zip is refused, not skipped.
    """
    archive = Archive(path)
    try:
        infos = sorted(
            (i for i in archive.zip().infolist() if not i.is_dir()), key=lambda i: i.filename
        )
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
        raise CSVFormatError(
            str(path), f"not a readable zip archive (truncated or corrupt?): {exc}"
        ) from exc
    members: list[tuple[zipfile.ZipInfo, str]] = []
    for info, after in zip(infos, [*infos[1:], None], strict=True):
        name = f"{path}!{info.filename}"
        if after is not None and after.filename == info.filename:
            raise InputError(
                f"{name}: the archive holds two members of this name (zipfile reads only the "
                "last); a police.uk archive holds each file once"
            )
        if info.filename.lower().endswith(".zip"):
            raise InputError(
                f"{name}: a zip inside a zip is not read (police.uk's archive holds CSVs in "
                "month folders); unzip the outer archive and import the folder"
            )
        if not info.filename.endswith(CSV_SUFFIXES):
            continue
        folder = check_member(path, info.filename)
        if info.file_size > limits.cap(info.compress_size):
            raise InputError(
                limits.refusal(name, info.file_size, info.compress_size, at_least=False)
            )
        members.append((info, folder))
    publication = max((folder for _, folder in members), default=None)
    return [
        Source(f"{path}!{i.filename}", path, i.filename, i.compress_size, publication, archive)
        for i, _ in members
    ]


def first_line(source: Source) -> bytes:
    """The header line's raw bytes, line ending included, failing with a clear message."""
    try:
        with source.open() as fh:
            return fh.readline(1 << 16)
    except READ_ERRORS as exc:
        raise CSVFormatError(
            source.name, f"cannot be read (truncated or corrupt gzip?): {exc}"
        ) from exc


def read_header(source: Source) -> tuple[str, ...]:
    """The column names of a CSV (plain or gzip), failing with a clear message."""
    first = first_line(source)
    if not first.strip():
        raise CSVFormatError(source.name, "is empty: expected a police.uk CSV header", line=1)
    try:
        text = first.decode("utf-8").lstrip("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError:
        raise CSVFormatError(
            source.name, "is not a UTF-8 text CSV (binary or another encoding)", line=1
        ) from None
    return tuple(next(csv.reader([text])))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class Scan:
    """What one streaming pass over a file's text found."""

    text_bytes: int
    lines: int  # physical lines, the header's included (a last line without newline counts)
    empty: np.ndarray  # numbers of the empty lines ('' or a lone '\r'), ascending (int64)
    sha256: str  # of the text: equal for the same CSV however it is compressed


def scan(source: Source, limits: Limits | None = None) -> Scan:
    """Stream ``source``'s text once: its size, lines, empty lines and sha256, within limits.

    Raises :class:`CSVFormatError` for a truncated or corrupt file, and :class:`InputError`
    naming the file and the limit when it decompresses past :meth:`Limits.cap` or holds
    more than ``max_empty_lines`` empty lines; memory stays at one chunk either way.
    """
    limits = limits or Limits()
    packed = source.packed_size()
    cap = limits.cap(packed)
    digest = hashlib.sha256()
    lines = _LineCounter(source.name, limits.max_empty_lines)
    size = 0
    try:
        with source.open() as fh:
            while chunk := fh.read(CHUNK):
                size += len(chunk)
                if size > cap:
                    raise InputError(limits.refusal(source.name, size, packed, at_least=True))
                digest.update(chunk)
                lines.feed(chunk)
    except READ_ERRORS as exc:
        raise CSVFormatError(source.name, f"cannot be read (truncated or corrupt?): {exc}") from exc
    return Scan(size, lines.total(), lines.found(), digest.hexdigest())


class _LineCounter:
    """Counts lines and finds empty ones, chunk by chunk, without holding the text.

    Each chunk's newlines are found in one numpy pass; only a chunk with a line of at most
    one byte is looked at closer.
    """

    def __init__(self, name: str, max_empty: int) -> None:
        self.name, self.max_empty = name, max_empty
        self.newlines = 0
        self.partial = 0  # bytes since the last newline
        self.last = 0  # the last byte seen
        self.empty: list[np.ndarray] = []  # empty lines found, per chunk
        self.count = 0

    def total(self) -> int:
        return self.newlines + (1 if self.partial else 0)

    def found(self) -> np.ndarray:
        """Numbers of the empty lines found so far, ascending."""
        return np.concatenate(self.empty) if self.empty else np.zeros(0, dtype=np.int64)

    def feed(self, chunk: bytes) -> None:
        data = np.frombuffer(chunk, dtype=np.uint8)
        ends = np.flatnonzero(data == 10)  # one pass in C: cheaper than searching for '\n\n'
        if ends.size:
            starts = np.empty_like(ends)
            starts[0] = -1 - self.partial
            starts[1:] = ends[:-1]
            length = ends - starts - 1
            if (length <= 1).any():  # an empty line, or a one-byte one: look closer
                self._found(data, ends, length)
            self.partial = len(chunk) - 1 - int(ends[-1])
        else:
            self.partial += len(chunk)
        self.newlines += ends.size
        self.last = chunk[-1]

    def _found(self, data: np.ndarray, ends: np.ndarray, length: np.ndarray) -> None:
        """Record the empty lines ('' or a lone '\r') among lines ending at ``ends``."""
        before = np.where(ends > 0, data[np.maximum(ends - 1, 0)], self.last)
        empty = (length == 0) | ((length == 1) & (before == 13))
        found = self.newlines + 1 + np.flatnonzero(empty).astype(np.int64)
        if not found.size:
            return
        if self.count + found.size > self.max_empty:
            first = int(self.empty[0][0] if self.empty else found[0])
            raise InputError(
                f"{self.name}: more than {self.max_empty:,} empty lines (the first at line "
                f"{first:,}): police.uk files have none, and a flood of them is refused "
                "unread, since rows after a long run of empty lines can be lost"
            )
        self.empty.append(found)
        self.count += found.size


def read_table(path: str | Path) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    """A small hand-made CSV (UTF-8, BOM allowed): its lower-cased header and (line, row)
    pairs, or a :class:`CSVFormatError` naming the file when it cannot be read."""
    name = str(path)
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            reader.fieldnames = header
            rows = [(reader.line_num, r) for r in reader]
    except OSError as exc:
        raise CSVFormatError(name, f"cannot be read ({exc.strerror or exc})") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CSVFormatError(name, f"cannot be read as a UTF-8 CSV file ({exc})") from exc
    return header, rows
