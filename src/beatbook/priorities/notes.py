"""Notes on a priority: what a partner agency or the team adds for the next JAG meeting
("the housing association is fitting new lighting"). Team only: never on a public page,
in the community update or in the API. Notes are appended, never edited or deleted.
"""

from __future__ import annotations

from typing import Any

from beatbook.errors import InputError
from beatbook.store import Store

__all__ = ["MAX_NOTE", "add_note", "notes_for"]

MAX_NOTE = 2000  # characters


def add_note(store: Store, priority_id: int, author: str, text: str) -> int:
    """Append a note to a priority; returns its id."""
    body = (text or "").strip()
    if not body:
        raise InputError("note: write something")
    if len(body) > MAX_NOTE:
        raise InputError(f"note: {len(body):,} characters; at most {MAX_NOTE:,}")
    who = (author or "").strip()
    if not who:
        raise InputError("note: say who wrote it")
    with store.transaction() as con:
        if not con.execute(
            "SELECT 1 FROM priorities WHERE priority_id = ?", [priority_id]
        ).fetchone():
            raise InputError(f"priority {priority_id}: no such priority")
        row = con.execute(
            "INSERT INTO priority_notes (priority_id, author, written_at, text) "
            "VALUES (?, ?, now(), ?) RETURNING note_id",
            [priority_id, who, body],
        ).fetchone()
    assert row is not None
    return int(row[0])


def notes_for(store: Store, priority_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The notes of each priority, oldest first: {priority_id: [{author, at, text}]}."""
    rows = store.rows(
        "SELECT priority_id, author, strftime(written_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M'), "
        "text FROM priority_notes WHERE list_contains(?::INTEGER[], priority_id) "
        "ORDER BY written_at, note_id",
        [list(priority_ids)],
    )
    found: dict[int, list[dict[str, Any]]] = {pid: [] for pid in priority_ids}
    for pid, author, at, text in rows:
        found.setdefault(pid, []).append({"author": author, "at": f"{at} UTC", "text": text})
    return found
