"""Notes on a priority: what a partner agency or the team adds for the next JAG meeting
("the housing association is fitting new lighting"). Team only: never on a public page,
in the community update or in the API. Notes are appended, never edited or deleted.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from beatbook.errors import InputError
from beatbook.records.engine import utc_now, utc_text
from beatbook.records.schema import priorities, priority_notes
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

    def work(c: sa.Connection) -> int:
        p = priorities.c  # checked in the transaction that writes its note
        if c.execute(sa.select(p.priority_id).where(p.priority_id == priority_id)).first() is None:
            raise InputError(f"priority {priority_id}: no such priority")
        return int(
            c.execute(
                sa.insert(priority_notes)
                .values(priority_id=priority_id, author=who, written_at=utc_now(), text=body)
                .returning(priority_notes.c.note_id)
            ).scalar_one()
        )

    return store.team_records.transact(work)


def notes_for(store: Store, priority_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The notes of each priority, oldest first: {priority_id: [{author, at, text}]}."""
    n = priority_notes.c
    with store.team_records.connect() as c:
        rows = c.execute(
            sa.select(n.priority_id, n.author, n.written_at, n.text)
            .where(n.priority_id.in_(list(priority_ids)))
            .order_by(n.written_at, n.note_id)
        ).all()
    found: dict[int, list[dict[str, Any]]] = {pid: [] for pid in priority_ids}
    for pid, author, written_at, text in rows:
        at = utc_text(written_at, "%Y-%m-%d %H:%M")
        found.setdefault(pid, []).append({"author": author, "at": f"{at} UTC", "text": text})
    return found
