"""The BeatBook exception tree, in one place.

Every error a user can cause is a :class:`BeatBookError` whose message is one
clear line: what was wrong, where (file, line, column, option) and what was
expected. The CLI prints that line and exits with code 2; nothing else
should escape to the user as a traceback.

::

    BeatBookError
    ├── InputError            bad file, row, field or argument
    │   ├── CSVFormatError    a police.uk / ONS CSV that cannot be read as such
    │   ├── ReplaceRefusedError an import that would shrink stored months (without --replace)
    │   ├── ConcernFileError  a residents' concerns CSV with bad rows (all of them listed)
    │   ├── ConcernFieldError one concern (the web form) with bad fields
    │   ├── LeakageError      a forecast given data from after its cutoff
    │   └── UnknownAreaError, AmbiguousAreaError
    ├── PoliceUkApiError      the police.uk API refused a request or answered off its shape
    ├── StoreError            the DuckDB store cannot be opened or written
    └── DataMissingError      the store lacks data a request needs (e.g. population)

The web app answers every one of these with its HTML error page or, under ``/api``, the
JSON ``{"error": "<the one line>"}``; nothing else is raised to a user.
"""

from __future__ import annotations

# What is wrong with a text holding "\x00": PostgreSQL cannot store one, so no input takes it.
NUL_PROBLEM = "contains a NUL character (\\x00); remove it"


class BeatBookError(Exception):
    """Base class: a problem the user can fix, described in one line."""

    exit_code = 2


class InputError(BeatBookError):
    """A file, row, field or argument is not what was expected."""


class CSVFormatError(InputError):
    """A CSV file cannot be read as the format it claims (header, encoding, compression)."""

    def __init__(
        self, file: str, problem: str, *, line: int | None = None, column: str | None = None
    ) -> None:
        where = file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}")
        self.file, self.line, self.column, self.problem = file, line, column, problem


class ReplaceRefusedError(InputError):
    """An import that would replace stored months with markedly fewer rows: refused whole.

    ``refused`` holds one dict per month: force, kind, month, file, rows_before, rows_after.
    """

    def __init__(self, message: str, refused: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.refused = refused


class UnknownAreaError(InputError):
    """An area name matches nothing defined in the store."""


class AmbiguousAreaError(InputError):
    """An area name matches more than one defined area."""


class StoreError(BeatBookError):
    """The store cannot be opened, or a write to it failed."""


class DataMissingError(BeatBookError):
    """The store lacks data the request needs (no crimes for the months, no population)."""


class ConcernFileError(InputError):
    """A concerns CSV with bad rows: every problem found (up to ``concerns.csv_import.MAX_ERRORS``), one per line."""

    def __init__(self, file: str, errors: list[CSVFormatError], total: int) -> None:
        lines = [str(e) for e in errors]
        more = f" (first {len(errors)} shown)" if total > len(errors) else ""
        head = f"{file}: {total} problem{'s' if total != 1 else ''}{more}; nothing was imported"
        super().__init__(
            "\n".join([head, *lines]) if total > 1 else f"{lines[0]}; nothing was imported"
        )
        self.errors, self.total = errors, total


class ConcernFieldError(InputError):
    """A concern recorded one at a time (the web form) with bad fields: ``errors`` holds
    (field, problem) pairs, fields named as the CSV columns; the message joins them."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{column}: {message}" for column, message in errors))
        self.errors = errors


class LeakageError(InputError):
    """Data after the cutoff month was passed to a forecaster."""


class PoliceUkApiError(BeatBookError):
    """The API refused a request or answered with something that is not its documented shape."""
