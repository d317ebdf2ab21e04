"""The people who use the web desk, their roles, and their passwords (argon2id hashes).

Roles follow the neighbourhood team: an **admin** manages users and settings, an
**analyst** imports data and runs analyses, an **inspector** decides priorities and
publishes updates, a **partner** reads the JAG pack and adds notes. What each role may
do is :data:`PERMISSIONS`, checked on every desk route by the web app.

A signed-in desk session is a row of ``sessions``: the browser's cookie holds a random id and
the store only its SHA-256. A session ends when its row goes: at sign-out, when the user's
password changes (their other sessions), when an admin ends them or disables the user, or
when it has been idle or alive too long (:data:`beatbook.settings.SESSION_IDLE_SECONDS`,
:data:`~beatbook.settings.SESSION_LIFETIME_SECONDS`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from beatbook.errors import InputError
from beatbook.store import Store

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

ROLES = ("admin", "analyst", "inspector", "partner")
# action -> roles allowed. "view" is reading the desk; the rest change something.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "manage_users": frozenset({"admin"}),
    "manage_settings": frozenset({"admin"}),
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
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise InputError(f"user {username!r} exists already")
        con.execute(
            "INSERT INTO users VALUES (?, ?, ?, false, now())",
            [username, role, _hasher.hash(password)],
        )
    return User(username, role)


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The user if the password is right and the account is enabled, else None."""
    row = store.first(
        "SELECT username, role, password_hash, disabled FROM users WHERE username = ?",
        [(name or "").strip().lower()],
    )
    try:
        _hasher.verify(row[2] if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or row[3]:
        return None
    return User(row[0], row[1])


def get_user(store: Store, name: str) -> User | None:
    """An enabled user by name (for a session)."""
    row = store.first(
        "SELECT username, role FROM users WHERE username = ? AND NOT disabled", [name]
    )
    return User(row[0], row[1]) if row else None


def list_users(store: Store) -> list[dict[str, object]]:
    """Every user with role and status: never the hash."""
    rows = store.rows(
        "SELECT username, role, disabled, strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') "
        "FROM users ORDER BY username"
    )
    return [{"username": u, "role": r, "disabled": d, "created_at": c} for u, r, d, c in rows]


# --- managing a user ---------------------------------------------------------------------


def _existing(con: DuckDBPyConnection, name: str) -> tuple[str, str, bool]:
    """(username, role, disabled) of a user, or an InputError naming them."""
    username = (name or "").strip().lower()
    row = con.execute(
        "SELECT username, role, disabled FROM users WHERE username = ?", [username]
    ).fetchone()
    if row is None:
        raise InputError(f"no user {name!r}: see 'beatbook users list'")
    return row[0], row[1], bool(row[2])


def set_password(store: Store, name: str, password: str, *, keep: str | None = None) -> int:
    """Change a user's password and end their sessions (all but ``keep``, the session id of
    the user changing their own). Returns how many sessions ended."""
    check_password(password)
    with store.transaction() as con:
        username = _existing(con, name)[0]
        con.execute(
            "UPDATE users SET password_hash = ? WHERE username = ?",
            [_hasher.hash(password), username],
        )
        return _end(con, username, keep)


def change_own_password(
    store: Store, user: User, current: str, new: str, *, keep: str | None = None
) -> int:
    """A user's own change: the current password must be right. Ends their other sessions."""
    if authenticate(store, user.username, current) is None:
        raise InputError("current password: not right, nothing was changed")
    return set_password(store, user.username, new, keep=keep)


def set_disabled(store: Store, name: str, disabled: bool) -> int:
    """Disable (ending every session of theirs) or enable a user; returns sessions ended.
    The last enabled admin is never disabled: nobody could manage users any more."""
    with store.transaction() as con:
        username, role, _ = _existing(con, name)
        if disabled and role == "admin":
            admins = con.execute(
                "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled "
                "AND username <> ?",
                [username],
            ).fetchone()
            if not (admins and admins[0]):
                raise InputError(
                    f"{username} is the last enabled admin: add or enable another admin first"
                )
        con.execute("UPDATE users SET disabled = ? WHERE username = ?", [disabled, username])
        return _end(con, username) if disabled else 0


def end_sessions(store: Store, name: str, *, keep: str | None = None) -> int:
    """End every session of a user (but ``keep``, a session id) at once; returns how many."""
    with store.transaction() as con:
        return _end(con, _existing(con, name)[0], keep)


# --- sessions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    id: str  # the random id the cookie holds
    user: User
    created_at: float  # Unix time
    seen_at: float


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _end(con: DuckDBPyConnection, username: str, keep: str | None = None) -> int:
    found = con.execute(
        "DELETE FROM sessions WHERE username = ? AND id_sha256 <> ?",
        [username, _digest(keep) if keep else ""],
    ).fetchone()
    return int(found[0]) if found else 0


def start_session(store: Store, user: User) -> str:
    """A new session for a signed-in user: its random id, for the cookie (256 bits)."""
    session_id = secrets.token_urlsafe(32)
    now = time.time()
    with store.transaction() as con:
        con.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?)",
            [_digest(session_id), user.username, now, now],
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
    row = store.first(
        "SELECT s.username, u.role, s.created_at, s.seen_at FROM sessions s "
        "JOIN users u ON u.username = s.username "
        "WHERE s.id_sha256 = ? AND NOT u.disabled AND s.seen_at > ? AND s.created_at > ?",
        [_digest(session_id), now - idle, now - lifetime],
    )
    if row is None:
        return None
    return Session(session_id, User(row[0], row[1]), float(row[2]), float(row[3]))


def touch_session(store: Store, session_id: str) -> None:
    """Record a request on the session now (restarts its idle time)."""
    store.execute(
        "UPDATE sessions SET seen_at = ? WHERE id_sha256 = ?", [time.time(), _digest(session_id)]
    )


def end_session(store: Store, session_id: str) -> None:
    """Sign-out: the session ends at once, wherever its cookie has been copied to."""
    store.execute("DELETE FROM sessions WHERE id_sha256 = ?", [_digest(session_id)])


def purge_sessions(store: Store, *, idle: float, lifetime: float) -> int:
    """Delete the rows of sessions that have expired; returns how many."""
    now = time.time()
    found = store.first(
        "DELETE FROM sessions WHERE seen_at <= ? OR created_at <= ?", [now - idle, now - lifetime]
    )
    return int(found[0]) if found else 0


def live_sessions(store: Store, *, idle: float, lifetime: float) -> dict[str, int]:
    """How many live sessions each user has (for the admins' users page)."""
    now = time.time()
    rows = store.rows(
        "SELECT username, count(*) FROM sessions WHERE seen_at > ? AND created_at > ? "
        "GROUP BY username",
        [now - idle, now - lifetime],
    )
    return {u: int(n) for u, n in rows}
