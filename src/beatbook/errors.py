"""The BeatBook exception tree, in one place.

Every error a user can cause is a :class:`BeatBookError` whose message is one
clear line: what was wrong, where (file, line, column, option) and what was
expected. The CLI prints that line and exits with code 2; nothing else
should escape to the user as a traceback.

::

    BeatBookError
    ├── InputError          bad file, row, field or argument
    │   ├── CSVFormatError  a police.uk / ONS CSV that cannot be read as such
    │   └── UnknownAreaError, AmbiguousAreaError
    ├── StoreError          the DuckDB store cannot be opened or written
    └── DataMissingError    the store lacks data a request needs (e.g. population)
"""

from __future__ import annotations


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


class UnknownAreaError(InputError):
    """An area name matches nothing defined in the store."""


class AmbiguousAreaError(InputError):
    """An area name matches more than one defined area."""


class StoreError(BeatBookError):
    """The store cannot be opened, or a write to it failed."""


class DataMissingError(BeatBookError):
    """The store lacks data the request needs (no crimes for the months, no population)."""
