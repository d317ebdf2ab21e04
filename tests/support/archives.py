"""police.uk archive zips in the published layout, built from the bundled real months.

police.uk publishes archives named by their latest month (``2025-06.zip``): a zip of
``YYYY-MM/`` folders, each holding ``YYYY-MM-<force>-street.csv``, ``-outcomes.csv`` and
``-stop-and-search.csv`` for every force. These are small ones of the same layout, two
forces (Leicestershire and Nottinghamshire, ``data/sample``: 2025-01 … 2025-06 of each),
every member made from real rows:

* **street**: the first ``rows`` rows of the real month, byte for byte (header and line
  endings included);
* **outcomes**: there is no real police.uk outcomes file to copy (shared/data/MANIFEST.md,
  section 2), so each is made from the same real street rows that have a Crime ID and a
  last outcome: their first nine columns, and the outcome as ``Outcome type``, under
  police.uk's outcomes header. Real values in the real layout, not a real outcomes file;
* **stop-and-search**: the real 2023-06 Leicestershire file's rows whose day is at most
  28, their ``Date`` moved to the folder's month (day, time and every other field kept),
  ``rows // 10`` of them, different ones for each force.

Two archives share months (:func:`overlapping`): the newer one's copies of the shared
months are re-publications (a few more rows, updated outcomes), so which publication a
stored month came from shows in its rows. :func:`members` gives each member's bytes, for
counting them independently of BeatBook.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
STREET = {
    "leicestershire": SAMPLE / "police-uk" / "leicestershire",
    "nottinghamshire": SAMPLE / "second-force" / "nottinghamshire",
}
STOP_AND_SEARCH = (
    SAMPLE / "police-uk" / "leicestershire" / "2023-06-leicestershire-stop-and-search.csv.gz"
)
FORCES = tuple(STREET)
KINDS = ("street", "outcomes", "stop-and-search")
OUTCOMES_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Outcome type"
)
REPUBLISHED_OUTCOME = "Offender given a caution"


def _lines(path: Path) -> tuple[list[bytes], bytes]:
    data = gzip.decompress(path.read_bytes())
    eol = b"\r\n" if b"\r\n" in data[:4096] else b"\n"
    lines = data.split(eol)
    return (lines[:-1] if lines[-1] == b"" else lines), eol


def _row(line: bytes) -> list[str]:
    return next(csv.reader([line.decode("utf-8")]))


def _line(values: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue().encode("utf-8")


def street(force: str, month: str, rows: int, republished: bool = False) -> bytes:
    """The first ``rows`` real rows of the month; re-published: 5% more rows, and every
    tenth crime's outcome updated."""
    lines, eol = _lines(STREET[force] / f"{month}-{force}-street.csv.gz")
    body = lines[1 : 1 + (rows + rows // 20 if republished else rows)]
    if republished:
        body = list(body)
        for i in range(0, len(body), 10):
            values = _row(body[i])
            if values[0]:
                values[10] = REPUBLISHED_OUTCOME
                body[i] = _line(values)
    return eol.join([lines[0], *body]) + eol


def outcomes(street_bytes: bytes) -> bytes:
    """police.uk's outcomes layout, from street rows with a Crime ID and a last outcome."""
    lines = street_bytes.decode("utf-8").splitlines()
    out = [OUTCOMES_HEADER]
    for values in csv.reader(lines[1:]):
        if values[0] and values[10]:
            out.append(_line([*values[:9], values[10]]).decode("utf-8"))
    return ("\n".join(out) + "\n").encode("utf-8")


def stop_and_search(force: str, month: str, rows: int) -> bytes:
    """Real stop-and-search rows (days 1 to 28) moved to ``month``: the first ``rows`` for
    the first force, the next ``rows`` for the second."""
    lines, eol = _lines(STOP_AND_SEARCH)
    body = []
    for line in lines[1:]:
        values = _row(line)
        if int(values[1][8:10]) <= 28:
            values[1] = month + values[1][7:]
            body.append(_line(values))
    start = FORCES.index(force) * rows
    return eol.join([lines[0], *body[start : start + rows]]) + eol


def members(
    months: list[str], rows: int = 300, republished: tuple[str, ...] = ()
) -> dict[str, bytes]:
    """Every member of an archive of ``months`` (both forces, all three kinds) by name;
    the months in ``republished`` are their re-published versions."""
    found = {}
    for month in months:
        for force in FORCES:
            text = street(force, month, rows, month in republished)
            prefix = f"{month}/{month}-{force}"
            found[f"{prefix}-street.csv"] = text
            found[f"{prefix}-outcomes.csv"] = outcomes(text)
            found[f"{prefix}-stop-and-search.csv"] = stop_and_search(force, month, rows // 10)
    return found


def write_zip(path: Path, contents: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
    return path


@dataclass(frozen=True)
class Published:
    """An archive built here: its path, publication (its latest month) and members."""

    path: Path
    publication: str
    members: dict[str, bytes]

    def write_csvs(self, folder: Path) -> Path:
        """Its members as plain files under ``folder`` (for DuckDB to count on its own)."""
        for name, data in self.members.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        return folder


def archive(
    folder: Path, months: list[str], rows: int = 300, republished: tuple[str, ...] = ()
) -> Published:
    """An archive of ``months`` named as police.uk names it: ``<latest month>.zip``."""
    contents = members(months, rows, republished)
    publication = max(months)
    return Published(write_zip(folder / f"{publication}.zip", contents), publication, contents)


OLDER_MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04"]
NEWER_MONTHS = ["2025-03", "2025-04", "2025-05", "2025-06"]
SHARED_MONTHS = ("2025-03", "2025-04")


def overlapping(folder: Path, rows: int = 300) -> tuple[Published, Published]:
    """Two archives sharing 2025-03 and 2025-04: published 2025-04 and 2025-06; the newer
    holds re-publications of the shared months."""
    older = archive(folder / "older", OLDER_MONTHS, rows)
    newer = archive(folder / "newer", NEWER_MONTHS, rows, republished=SHARED_MONTHS)
    return older, newer
