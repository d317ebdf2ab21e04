"""The three police.uk CSV kinds: their exact headers and how each row is checked.

A kind is recognised by its header alone. Each kind says, in SQL over the
staged text columns, how to find the month, what makes a row invalid (the
reason it is quarantined) and how to turn a valid row into the stored one.
"""

from __future__ import annotations

from dataclasses import dataclass

from beatbook.errors import CSVFormatError

# Bounding box of the United Kingdom (police.uk covers England, Wales and Northern Ireland).
UK_LAT = (49.0, 61.0)
UK_LON = (-8.7, 2.0)


def _text(col: str) -> str:
    """A staged column: already trimmed, with empty strings as NULL (see ``clean_sql``)."""
    return f'"{col}"'


def clean_sql(header: tuple[str, ...]) -> str:
    """Select list that trims spaces off every text column and turns empty strings into NULL.

    Only values that start or end with a space, or are empty, are trimmed: few are
    (police.uk's 'On or near ' is one), and testing both ends costs less than trimming all.
    """
    return ", ".join(
        f"CASE WHEN \"{c}\" = '' OR starts_with(\"{c}\", ' ') OR ends_with(\"{c}\", ' ') "
        f'THEN NULLIF(trim("{c}"), \'\') ELSE "{c}" END AS "{c}"'
        for c in header
    )


def _coordinate_checks(lon: str, lat: str) -> list[str]:
    """Quarantine reasons for a coordinate pair: both or neither, numbers, inside the UK."""
    checks = [
        f"WHEN ({_text(lon)} IS NULL) <> ({_text(lat)} IS NULL) "
        f"THEN 'only one of {lon} and {lat} is given'"
    ]
    for col, (low, high) in ((lat, UK_LAT), (lon, UK_LON)):
        value = f"TRY_CAST({_text(col)} AS DOUBLE)"
        checks.append(
            f"WHEN {_text(col)} IS NOT NULL AND {value} IS NULL "
            f"THEN '{col} ''' || \"{col}\" || ''' is not a number'"
        )
        checks.append(
            f"WHEN {value} NOT BETWEEN {low} AND {high} "
            f"THEN '{col} ' || \"{col}\" || ' is outside the UK (expected {low} to {high})'"
        )
    return checks


def _lsoa_check() -> str:
    return (
        f"WHEN {_text('LSOA code')} IS NOT NULL AND NOT regexp_full_match("
        f"{_text('LSOA code')}, '[EWN]0[0-9]{{7}}') "
        "THEN 'LSOA code ''' || \"LSOA code\" || ''' is not an ONS LSOA code (e.g. E01012345)'"
    )


def _required(col: str) -> str:
    return f"WHEN {_text(col)} IS NULL THEN '{col} is empty'"


def _case(checks: list[str]) -> str:
    return "CASE " + " ".join(checks) + " END"


def _local_authority() -> str:
    """District from an LSOA name: 'North West Leicestershire 011F' -> 'North West Leicestershire'."""
    return f"NULLIF(regexp_extract({_text('LSOA name')}, '^(.*) [0-9]{{3}}[A-Z]$', 1), '')"


def _bool(col: str) -> str:
    return f"CASE lower({_text(col)}) WHEN 'true' THEN true WHEN 'false' THEN false END"


@dataclass(frozen=True)
class FileKind:
    name: str
    header: tuple[str, ...]
    table: str
    month_column: str
    month_valid_sql: str  # true when the month column is parseable
    month_expected: str  # wording for the error message
    month_sql: str  # 'YYYY-MM' of a (valid) row
    reason_sql: str  # NULL for a valid row, else why it is quarantined
    select_sql: str  # stored columns after (force, month), before (source_file, source_line)


_LOCATED = (
    f"{_text('Crime ID')}, {_text('Reported by')}, {_text('Falls within')}, "
    f"TRY_CAST({_text('Longitude')} AS DOUBLE), TRY_CAST({_text('Latitude')} AS DOUBLE), "
    f"{_text('Location')}, {_text('LSOA code')}, {_text('LSOA name')}, {_local_authority()}"
)
# Columns street and outcomes files share: the crime and where police.uk placed it.
_LOCATED_HEADER = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
)
_MONTH_VALID = "regexp_full_match(coalesce(\"Month\", ''), '[0-9]{4}-(0[1-9]|1[0-2])')"

STREET = FileKind(
    name="street",
    header=(*_LOCATED_HEADER, "Crime type", "Last outcome category", "Context"),
    table="street_crimes",
    month_column="Month",
    month_valid_sql=_MONTH_VALID,
    month_expected="month (expected YYYY-MM, e.g. 2021-07)",
    month_sql='"Month"',
    reason_sql=_case(
        [_required("Crime type"), *_coordinate_checks("Longitude", "Latitude"), _lsoa_check()]
    ),
    select_sql=(
        f"{_LOCATED}, {_text('Crime type')}, {_text('Last outcome category')}, {_text('Context')}"
    ),
)

OUTCOMES = FileKind(
    name="outcomes",
    header=(*_LOCATED_HEADER, "Outcome type"),
    table="outcomes",
    month_column="Month",
    month_valid_sql=_MONTH_VALID,
    month_expected="month (expected YYYY-MM, e.g. 2021-07)",
    month_sql='"Month"',
    reason_sql=_case(
        [_required("Outcome type"), *_coordinate_checks("Longitude", "Latitude"), _lsoa_check()]
    ),
    select_sql=f"{_LOCATED}, {_text('Outcome type')}",
)

STOP_AND_SEARCH = FileKind(
    name="stop-and-search",
    header=(
        "Type",
        "Date",
        "Part of a policing operation",
        "Policing operation",
        "Latitude",
        "Longitude",
        "Gender",
        "Age range",
        "Self-defined ethnicity",
        "Officer-defined ethnicity",
        "Legislation",
        "Object of search",
        "Outcome",
        "Outcome linked to object of search",
        "Removal of more than just outer clothing",
    ),
    table="stop_searches",
    month_column="Date",
    month_valid_sql=(
        "regexp_full_match(coalesce(\"Date\", ''), '[0-9]{4}-[0-9]{2}-[0-9]{2}T.*') "
        'AND TRY_CAST("Date" AS TIMESTAMPTZ) IS NOT NULL'
    ),
    month_expected="date (expected ISO 8601, e.g. 2023-06-01T09:30:00+00:00)",
    month_sql='substr("Date", 1, 7)',
    reason_sql=_case(_coordinate_checks("Longitude", "Latitude")),
    select_sql=(
        f'{_text("Type")}, CAST("Date" AS TIMESTAMPTZ), '
        f"{_bool('Part of a policing operation')}, {_text('Policing operation')}, "
        f"TRY_CAST({_text('Latitude')} AS DOUBLE), TRY_CAST({_text('Longitude')} AS DOUBLE), "
        f"{_text('Gender')}, {_text('Age range')}, {_text('Self-defined ethnicity')}, "
        f"{_text('Officer-defined ethnicity')}, {_text('Legislation')}, "
        f"{_text('Object of search')}, {_text('Outcome')}, "
        f"{_bool('Outcome linked to object of search')}, "
        f"{_bool('Removal of more than just outer clothing')}"
    ),
)

KINDS = (STREET, OUTCOMES, STOP_AND_SEARCH)


def kind_for_header(file: str, header: tuple[str, ...]) -> FileKind:
    """The kind whose header matches exactly, or a clear error showing what was expected."""
    cleaned = tuple(h.strip() for h in header)
    for kind in KINDS:
        if cleaned == kind.header:
            return kind
    shown = ",".join(cleaned)[:120]
    raise CSVFormatError(
        file,
        f"header '{shown}' is not a police.uk street, outcomes or stop-and-search header "
        f"(a street file starts '{','.join(STREET.header[:4])},...')",
        line=1,
    )
