"""Move a team's records from one backend to another (``beatbook db copy``): from the store
file a team has used so far into the PostgreSQL database it moves to.

All of it or nothing: the rows are written in one transaction on the target, which must be at
the newest revision and hold no records yet (copying into records in use would mix two teams'
ids). The id sequences are set past the copied ids, so the next concern, priority or note gets
a new number.
"""

from __future__ import annotations

import sqlalchemy as sa

from beatbook.errors import InputError
from beatbook.records import migrations, schema
from beatbook.records.engine import Records

BATCH = 500  # rows per INSERT (BLOBs of published updates are a few MB each)

# Each sequence and the column whose ids it gave.
SEQUENCE_COLUMNS = (
    (schema.concern_ids, schema.concerns.c.concern_id),
    (schema.priority_ids, schema.priorities.c.priority_id),
    (schema.priority_note_ids, schema.priority_notes.c.note_id),
)


def copy_records(source: Records, target: Records) -> dict[str, int]:
    """Copy every team table from ``source`` to ``target``; the rows copied per table."""
    for records, name in ((source, "the source"), (target, "the target")):
        if records.revision() != migrations.HEAD:
            raise InputError(
                f"{name} ({records.where}) is not at revision {migrations.HEAD}: "
                "run 'beatbook db upgrade' on it first"
            )
    tables = schema.metadata.sorted_tables
    with source.connect() as reading:
        found = {
            table.name: [dict(row._mapping) for row in reading.execute(sa.select(table))]
            for table in tables
        }

    def write(c: sa.Connection) -> dict[str, int]:
        used = [
            t.name
            for t in tables
            if c.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        ]
        if used:
            raise InputError(
                f"the target ({target.where}) already holds records in {', '.join(used)}: "
                "copy only into new, empty records"
            )
        for table in tables:
            rows = found[table.name]
            for start in range(0, len(rows), BATCH):
                c.execute(sa.insert(table), rows[start : start + BATCH])
        for sequence, column in SEQUENCE_COLUMNS:
            highest = c.execute(sa.select(sa.func.max(column))).scalar_one()
            if highest is not None:
                c.execute(sa.select(sa.func.setval(sequence.name, highest)))
        return {name: len(rows) for name, rows in found.items()}

    return target.transact(write)
