"""The police.uk archive zip: its layout, its publication, and one open zip for all members.

police.uk publishes its data as archives named by their latest month (``2025-09.zip``),
each a zip of ``YYYY-MM/`` folders holding ``YYYY-MM-<force>-street.csv``,
``-outcomes.csv`` and ``-stop-and-search.csv`` for every force, up to 36 months; so
archives overlap, and a month in two archives is two publications of it. An archive's
*publication* is its latest month folder: of two archives holding a month, the one with
the later publication is the newer copy (``publication.newest``).

Every CSV member must sit in that layout (its month folder, a police.uk file name of the
folder's month): a member elsewhere, or of another month than its folder, is refused with
the member named, before anything is read. Files that are not CSVs (a README) are
ignored; a zip inside the zip is refused.

A national archive holds thousands of members and its directory takes tens of
milliseconds to parse, so the archive is opened once (:class:`Archive`) and every member
read from that one ``ZipFile``: its reads are locked, so threads may read members at once.
"""

from __future__ import annotations

import re
import threading
import zipfile
from pathlib import Path
from typing import IO

from beatbook.errors import InputError

MONTH = r"\d{4}-(?:0[1-9]|1[0-2])"
MEMBER = re.compile(
    rf"(?P<folder>{MONTH})/(?P<month>{MONTH})-(?P<force>[a-z0-9-]+?)-"
    r"(?P<kind>street|outcomes|stop-and-search)\.csv(?:\.gz)?"
)
LAYOUT = "YYYY-MM/YYYY-MM-<force>-<street|outcomes|stop-and-search>.csv"


class Archive:
    """One zip archive, opened once for all its members (closed by :meth:`close`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._lock = threading.Lock()

    def zip(self) -> zipfile.ZipFile:
        with self._lock:
            if self._zip is None:
                self._zip = zipfile.ZipFile(self.path)
            return self._zip

    def open(self, member: str) -> IO[bytes]:
        """A member's bytes as a stream (decompressed as it is read)."""
        return self.zip().open(member)

    def close(self) -> None:
        with self._lock:
            if self._zip is not None:
                self._zip.close()
                self._zip = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_member(archive: Path, member: str) -> str:
    """The month folder of a CSV member laid out as police.uk's archive lays it out;
    an :class:`InputError` naming the member otherwise."""
    name = f"{archive}!{member}"
    match = MEMBER.fullmatch(member)
    if match is None:
        folder, _, file = member.rpartition("/")
        if not re.fullmatch(MONTH, folder):
            where = f"in the folder '{folder}/'" if folder else "at the top of the archive"
            raise InputError(
                f"{name}: a CSV {where}, not in a month folder: police.uk's archive holds "
                f"each month's files in a folder of that month ({LAYOUT}, e.g. "
                "2025-09/2025-09-leicestershire-street.csv); unzip it and import the files"
            )
        raise InputError(
            f"{name}: '{file}' is not a police.uk file name ({LAYOUT}): the archive's "
            "members are named by month, force and kind"
        )
    if match["month"] != match["folder"]:
        raise InputError(
            f"{name}: a file of {match['month']} in the folder of {match['folder']}: each "
            "month folder of a police.uk archive holds that month's files only"
        )
    return match["folder"]


__all__ = ["Archive", "LAYOUT", "check_member"]
