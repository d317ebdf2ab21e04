"""Finding the CSVs to import and reading their bytes: files, folders, gzip and zip archives.

Everything here works on raw bytes, outside DuckDB: which files a path names,
their header line, their sha256 (to recognise a re-import), the size of their
text and, when needed, their empty lines (which DuckDB's reader skips
without counting).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from beatbook.errors import CSVFormatError, InputError

CSV_SUFFIXES = (".csv", ".csv.gz")


@dataclass(frozen=True)
class Source:
    """A CSV to read: the name shown to the user and a local path DuckDB can open."""

    name: str
    path: Path

    def is_gzip(self) -> bool:
        with open(self.path, "rb") as fh:
            return fh.read(2) == b"\x1f\x8b"

    def open(self) -> BinaryIO:
        """The decompressed bytes (gzip is recognised by its magic number, not its name)."""
        if self.is_gzip():
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        return open(self.path, "rb")


def find_sources(paths: Iterable[str | Path], tmpdir: Path) -> list[Source]:
    """Expand files, folders and zip archives into the CSVs to import, in a stable order."""
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
                    sources.extend(_zip_members(child, tmpdir))
        elif path.suffix == ".zip":
            sources.extend(_zip_members(path, tmpdir))
        else:
            sources.append(Source(str(path), path))
    if not sources:
        raise InputError("no police.uk CSV files found in " + ", ".join(str(p) for p in paths))
    return [_named_as_compressed(s, tmpdir, i) for i, s in enumerate(sources)]


def _named_as_compressed(source: Source, tmpdir: Path, index: int) -> Source:
    """DuckDB tells gzip by the name's ``.gz``: link a misnamed file under the right name."""
    gz = source.is_gzip()
    if gz == source.path.name.endswith(".gz"):
        return source
    link = tmpdir / f"{index}-as{'.csv.gz' if gz else '.csv'}"
    link.symlink_to(source.path.resolve())
    return Source(source.name, link)


def _zip_members(archive: Path, tmpdir: Path) -> Iterator[Source]:
    """Extract the CSVs of a police.uk archive zip, reporting a truncated archive clearly."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = sorted(n for n in zf.namelist() if n.endswith(CSV_SUFFIXES))
            # One folder per archive: two downloads may share a name and hold the same member.
            folder = Path(tempfile.mkdtemp(dir=tmpdir))
            for i, member in enumerate(names):
                target = folder / f"{i}-{Path(member).name}"
                with zf.open(member) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                yield Source(f"{archive}!{member}", target)
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
        raise CSVFormatError(
            str(archive), f"not a readable zip archive (truncated or corrupt?): {exc}"
        ) from exc


def first_line(source: Source) -> bytes:
    """The header line's raw bytes, line ending included, failing with a clear message."""
    try:
        with source.open() as fh:
            return fh.readline(1 << 16)
    except (OSError, EOFError, zlib.error) as exc:
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


def text_size(source: Source) -> int:
    """Size of the CSV text in bytes, modulo 2**32 for gzip (its ISIZE trailer): no decompression."""
    size = source.path.stat().st_size
    if not source.is_gzip():
        return size
    with open(source.path, "rb") as fh:
        fh.seek(max(size - 4, 0))
        trailer = fh.read(4)
    return int.from_bytes(trailer, "little") if len(trailer) == 4 else -1


def ends_with_newline(source: Source) -> bool | None:
    """Whether a plain CSV's last byte is a newline; None for gzip (it would need decompressing)."""
    if source.is_gzip():
        return None
    with open(source.path, "rb") as fh:
        fh.seek(max(source.path.stat().st_size - 1, 0))
        return fh.read(1) == b"\n"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def empty_lines(source: Source) -> set[int]:
    """Numbers of the empty lines of a CSV, which DuckDB skips without counting them."""
    try:
        with source.open() as fh:
            data = fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise CSVFormatError(source.name, f"cannot be read (truncated or corrupt?): {exc}") from exc
    if b"\n\n" not in data and b"\n\r\n" not in data and not data.startswith((b"\n", b"\r\n")):
        return set()  # the usual case: no line-by-line pass needed
    lines = data.split(b"\n")[:-1]  # each element was followed by a newline
    return {n for n, text in enumerate(lines, start=1) if text in (b"", b"\r")}


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
