"""The people who use the web desk, their roles, and their passwords (argon2id hashes).

Roles follow the neighbourhood team: an **admin** manages users and settings and uploads
police.uk files on the desk, an **analyst** imports data and runs analyses, an **inspector**
decides priorities and publishes updates, a **partner** reads the JAG pack and adds notes.
What each role may do is :data:`PERMISSIONS`, checked on every desk route by the web app.

A signed-in desk session is a row of ``sessions``: the browser's cookie holds a random id and
the store only its SHA-256. A session ends when its row goes: at sign-out, when the user's
password changes (their other sessions), when an admin ends them or disables the user, or
when it has been idle or alive too long (:data:`beatbook.settings.SESSION_IDLE_SECONDS`,
:data:`~beatbook.settings.SESSION_LIFETIME_SECONDS`).

Both tables are team records (``store.team_records``: the store's file or PostgreSQL). A
check that guards a write (a name taken, the last admin) runs in the write's own transaction,
so it holds when two people act at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from beatbook.errors import InputError
from beatbook.records.engine import utc_now, utc_text
from beatbook.records.schema import sessions, users
from beatbook.store import Store

ROLES = ("admin", "analyst", "inspector", "partner")
# action -> roles allowed. "view" is reading the desk; the rest change something.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "manage_users": frozenset({"admin"}),
    "manage_settings": frozenset({"admin"}),
    "import_data": frozenset({"admin"}),  # police.uk files uploaded on the desk
    "import": frozenset({"analyst"}),
    "propose": frozenset({"analyst", "inspector"}),
    "decide": frozenset({"inspector"}),
    "publish": frozenset({"inspector"}),
    "record_results": frozenset({"analyst", "inspector"}),
    "engagements": frozenset({"analyst", "inspector"}),
    "match_concerns": frozenset({"analyst", "inspector"}),
    "read_jag": frozenset({"analyst", "inspector", "partner"}),
    "add_notes": frozenset({"partner", "inspector"}),
}
MIN_PASSWORD = 12
_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory defaults
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
# Verifying against this hash when the user does not exist takes as long as a real check,
# so response times do not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class User:
    username: str
    role: str

    def can(self, action: str) -> bool:
        return self.role in PERMISSIONS[action]


def check_username(name: str) -> str:
    username = (name or "").strip().lower()
    if not _NAME.fullmatch(username):
        raise InputError(f"username {name!r}: expected 2-40 letters, digits, '.', '_' or '-'")
    return username


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"--role {role!r}: expected one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password: at least {MIN_PASSWORD} characters")
    return password


def add_user(store: Store, name: str, role: str, password: str) -> User:
    """Create a user, or refuse if the name is taken or the password is too short."""
    username, role = check_username(name), check_role(role)
    check_password(password)
    row = {
        "username": username,
        "role": role,
        "password_hash": _hasher.hash(password),
        "disabled": False,
        "created_at": utc_now(),
    }
    taken = f"user {username!r} exists already"

    def work(c: sa.Connection) -> None:
        if c.execute(sa.select(users.c.username).where(users.c.username == username)).first():
            raise InputError(taken)
        c.execute(sa.insert(users).values(**row))

    try:
        store.team_records.transact(work)
    except sa.exc.IntegrityError as exc:  # added by someone else after the check
        raise InputError(taken) from exc
    return User(username, role)


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The user if the password is right and the account is enabled, else None."""
    with store.team_records.connect() as c:
        row = c.execute(
            sa.select(
                users.c.username, users.c.role, users.c.password_hash, users.c.disabled
            ).where(users.c.username == (name or "").strip().lower())
        ).first()
    try:
        _hasher.verify(row[2] if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or row[3]:
        return None
    return User(row[0], row[1])


def get_user(store: Store, name: str) -> User | None:
    """An enabled user by name (for a session)."""
    with store.team_records.connect() as c:
        row = c.execute(
            sa.select(users.c.username, users.c.role).where(
                users.c.username == name, sa.not_(users.c.disabled)
            )
        ).first()
    return User(row[0], row[1]) if row else None


def list_users(store: Store) -> list[dict[str, object]]:
    """Every user with role and status: never the hash."""
    with store.team_records.connect() as c:
        rows = c.execute(
            sa.select(
                users.c.username, users.c.role, users.c.disabled, users.c.created_at
            ).order_by(users.c.username)
        ).all()
    return [
        {"username": u, "role": r, "disabled": d, "created_at": utc_text(at)}
        for u, r, d, at in rows
    ]


# --- managing a user ---------------------------------------------------------------------


def _existing(c: sa.Connection, name: str) -> tuple[str, str, bool]:
    """(username, role, disabled) of a user, or an InputError naming them."""
    username = (name or "").strip().lower()
    row = c.execute(
        sa.select(users.c.username, users.c.role, users.c.disabled).where(
            users.c.username == username
        )
    ).first()
    if row is None:
        raise InputError(f"no user {name!r}: see 'beatbook users list'")
    return row[0], row[1], bool(row[2])


def set_password(store: Store, name: str, password: str, *, keep: str | None = None) -> int:
    """Change a user's password and end their sessions (all but ``keep``, the session id of
    the user changing their own). Returns how many sessions ended."""
    check_password(password)
    hashed = _hasher.hash(password)  # slow: once, not on each run of the transaction

    def work(c: sa.Connection) -> int:
        username = _existing(c, name)[0]
        c.execute(sa.update(users).where(users.c.username == username).values(password_hash=hashed))
        return _end(c, username, keep)

    return store.team_records.transact(work)


def change_own_password(
    store: Store, user: User, current: str, new: str, *, keep: str | None = None
) -> int:
    """A user's own change: the current password must be right. Ends their other sessions."""
    if authenticate(store, user.username, current) is None:
        raise InputError("current password: not right, nothing was changed")
    return set_password(store, user.username, new, keep=keep)


def set_disabled(store: Store, name: str, disabled: bool) -> int:
    """Disable (ending every session of theirs) or enable a user; returns sessions ended.
    The last enabled admin is never disabled: nobody could manage users any more (checked in
    the same transaction, so two admins disabling each other at once leave one)."""

    def work(c: sa.Connection) -> int:
        username, role, _ = _existing(c, name)
        if disabled and role == "admin":
            others = c.execute(
                sa.select(sa.func.count()).where(
                    users.c.role == "admin",
                    sa.not_(users.c.disabled),
                    users.c.username != username,
                )
            ).scalar_one()
            if not others:
                raise InputError(
                    f"{username} is the last enabled admin: add or enable another admin first"
                )
        c.execute(sa.update(users).where(users.c.username == username).values(disabled=disabled))
        return _end(c, username) if disabled else 0

    return store.team_records.transact(work)


def end_sessions(store: Store, name: str, *, keep: str | None = None) -> int:
    """End every session of a user (but ``keep``, a session id) at once; returns how many."""
    return store.team_records.transact(lambda c: _end(c, _existing(c, name)[0], keep))


# --- sessions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    id: str  # the random id the cookie holds
    user: User
    created_at: float  # Unix time
    seen_at: float


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _deleted(c: sa.Connection, *where: sa.ColumnElement[bool]) -> int:
    """Delete the sessions ``where`` holds; how many went (counted from RETURNING)."""
    return len(c.execute(sa.delete(sessions).where(*where).returning(sessions.c.id_sha256)).all())


def _end(c: sa.Connection, username: str, keep: str | None = None) -> int:
    return _deleted(
        c, sessions.c.username == username, sessions.c.id_sha256 != (_digest(keep) if keep else "")
    )


def start_session(store: Store, user: User) -> str:
    """A new session for a signed-in user: its random id, for the cookie (256 bits)."""
    session_id = secrets.token_urlsafe(32)
    now = time.time()
    row = {"id_sha256": _digest(session_id), "username": user.username}
    store.team_records.transact(
        lambda c: c.execute(sa.insert(sessions).values(**row, created_at=now, seen_at=now))
    )
    return session_id


def find_session(
    store: Store, session_id: str | None, *, idle: float, lifetime: float
) -> Session | None:
    """The live session with this id, if its user is enabled and it has been neither idle
    for ``idle`` seconds nor alive for ``lifetime`` seconds; else None."""
    if not session_id or len(session_id) > 200:
        return None
    now = time.time()
    s, u = sessions.c, users.c
    with store.team_records.connect() as c:
        row = c.execute(
            sa.select(s.username, u.role, s.created_at, s.seen_at)
            .join_from(sessions, users, u.username == s.username)
            .where(
                s.id_sha256 == _digest(session_id),
                sa.not_(u.disabled),
                s.seen_at > now - idle,
                s.created_at > now - lifetime,
            )
        ).first()
    if row is None:
        return None
    return Session(session_id, User(row[0], row[1]), float(row[2]), float(row[3]))


def touch_session(store: Store, session_id: str) -> None:
    """Record a request on the session now (restarts its idle time)."""
    change = (
        sa.update(sessions)
        .where(sessions.c.id_sha256 == _digest(session_id))
        .values(seen_at=time.time())
    )
    store.team_records.transact(lambda c: c.execute(change))


def end_session(store: Store, session_id: str) -> None:
    """Sign-out: the session ends at once, wherever its cookie has been copied to."""
    store.team_records.transact(lambda c: _deleted(c, sessions.c.id_sha256 == _digest(session_id)))


def purge_sessions(store: Store, *, idle: float, lifetime: float) -> int:
    """Delete the rows of sessions that have expired; returns how many."""
    now = time.time()
    expired = sa.or_(sessions.c.seen_at <= now - idle, sessions.c.created_at <= now - lifetime)
    return store.team_records.transact(lambda c: _deleted(c, expired))


def live_sessions(store: Store, *, idle: float, lifetime: float) -> dict[str, int]:
    """How many live sessions each user has (for the admins' users page)."""
    now = time.time()
    with store.team_records.connect() as c:
        rows = c.execute(
            sa.select(sessions.c.username, sa.func.count())
            .where(sessions.c.seen_at > now - idle, sessions.c.created_at > now - lifetime)
            .group_by(sessions.c.username)
        ).all()
    return {u: int(n) for u, n in rows}
