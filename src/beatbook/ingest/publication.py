"""What an import may replace: a file replaces only the month it is the publication of.

police.uk publishes one file per (force, month, kind), and a stored partition holds one
such publication. The rules, in one place (docs/data.md, "What an import may replace"):

* A file's month is the month of most of its rows, and it must be the month its police.uk
  name gives (``YYYY-MM-<force>-<kind>.csv``), if it has one. Rows of any other month are
  stray: quarantined with the file, never stored, so they can never replace that month.
* One import holds one file per (force, month, kind): a second file for it is refused with
  both named, unless its text is the same (then it is reported as a duplicate and skipped).
* A replacement may shrink a stored month by at most ``SHRINK_TOLERANCE`` of its rows
  unless the caller says ``replace=True`` (``--replace``); otherwise the import is
  refused, with every such month's rows before and after. A month fetched from the API
  (a team's area, not the force) is always replaced by the force's file.
* Of two archives holding a month, the newer publication wins (:func:`newer`): an older
  archive's copy never replaces a month stored from a newer one, in either order.

No SQL here: ``policeuk_csv`` asks, this module answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from beatbook import settings
from beatbook.errors import CSVFormatError, InputError, ReplaceRefusedError

FILE_NAME = re.compile(
    r"(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-(?P<kind>street|outcomes|stop-and-search)"
    r"\.csv(\.gz)?$"
)


def named(name: str) -> tuple[str | None, str | None]:
    """(month, force) that a police.uk file name gives, or Nones."""
    match = FILE_NAME.search(Path(name).name)
    return (match["month"], match["force"]) if match else (None, None)


def publication_month(name: str, months: dict[str, int]) -> str | None:
    """The month ``name`` is the publication of, from its rows per month (None: no rows).

    The month of more than half of its rows; it must agree with the month in its name.
    """
    total = sum(months.values())
    if not total:
        return None
    top, count = max(months.items(), key=lambda item: (item[1], item[0]))
    month, _ = named(name)
    if month is not None and months.get(month, 0) * 2 > total:
        return month
    shown = ", ".join(f"{m}: {n:,}" for m, n in sorted(months.items(), key=lambda i: -i[1])[:4])
    if month is not None:
        raise CSVFormatError(
            name,
            f"its name says {month}, but {months.get(month, 0):,} of its {total:,} rows are "
            f"of {month} ({shown}): a file is imported only as the month most of its rows "
            "and its name agree on; rename it or check it is the right file",
        )
    if count * 2 > total:
        return top
    raise CSVFormatError(
        name,
        f"no month holds most of its {total:,} rows ({shown}): police.uk publishes one "
        "month per file, and a file replaces only its own month; split it by month",
    )


def newer(publication: str | None, than: str | None) -> bool:
    """Whether an archive published in ``publication`` ('YYYY-MM', its latest month) is a
    newer copy than one published in ``than``; a plain file's (None) is never compared."""
    return publication is not None and than is not None and publication > than


def stray_reason(month: str, publication: str) -> str:
    """Quarantine reason of a row of another month than its file's."""
    return (
        f"Month {month} is not this file's month ({publication}): a file replaces only "
        "its own month, so its rows of other months are not stored"
    )


@dataclass
class Claim:
    """The file an import takes a (kind, force, month) from, and how to get its text's sha."""

    name: str
    content: Callable[[], str]


@dataclass
class Replacement:
    kind: str
    force: str
    month: str
    file: str
    rows_before: int
    rows_after: int
    origin_before: str = "file"  # what it replaces: 'file', 'archive' or 'api'

    @property
    def shrinks(self) -> bool:
        """An API month covers one area, not the force: the force's file never shrinks it."""
        if self.origin_before == "api":
            return False
        return self.rows_after < self.rows_before * (1 - settings.SHRINK_TOLERANCE)

    def to_dict(self) -> dict[str, object]:
        return {
            "force": self.force,
            "kind": self.kind,
            "month": self.month,
            "file": self.file,
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
        }

    def describe(self) -> str:
        change = (self.rows_after - self.rows_before) / self.rows_before if self.rows_before else 0
        return (
            f"{self.force} {self.kind} {self.month}: {self.rows_before:,} -> "
            f"{self.rows_after:,} rows ({change:+.2%}) from {self.file}"
        )


@dataclass
class Plan:
    """What one import takes and replaces, checked across all its files and batches."""

    replace: bool = False
    claims: dict[tuple[str, str, str], Claim] = field(default_factory=dict)
    replacements: list[Replacement] = field(default_factory=list)

    def claim(self, kind: str, force: str, month: str, claim: Claim) -> Claim | None:
        """Take (kind, force, month) for ``claim``'s file; return the earlier file when it is
        the same text (a duplicate, to skip); refuse two different files for it."""
        earlier = self.claims.setdefault((kind, force, month), claim)
        if earlier is claim:
            return None
        if earlier.content() == claim.content():
            return earlier
        raise InputError(
            f"two different files for {force} {kind} {month} in one import: {earlier.name} and "
            f"{claim.name}; import the one that is the publication you want (police.uk "
            "re-publishes months, so the later download is usually it)"
        )

    def replaced(self, replacement: Replacement) -> None:
        self.replacements.append(replacement)

    def check(self, replacements: list[Replacement] | None = None, head: str | None = None) -> None:
        """Refuse the import if it shrinks any stored month too much without ``replace``.

        ``replacements``: those foreseen before anything is stored (default: those made);
        ``head``: what was not imported, when earlier months were stored.
        """
        made = self.replacements if replacements is None else replacements
        refused = [r for r in made if r.shrinks]
        if not refused or self.replace:
            return
        limit = f"{settings.SHRINK_TOLERANCE:.0%}"
        raise ReplaceRefusedError(
            f"{head or 'nothing was imported'}: {len(refused)} stored month{'s' if len(refused) > 1 else ''} "
            f"would lose more than {limit} of {'their' if len(refused) > 1 else 'its'} rows ("
            + "; ".join(r.describe() for r in refused)
            + "); check the files, and if they are right run the import again with --replace",
            [r.to_dict() for r in refused],
        )
