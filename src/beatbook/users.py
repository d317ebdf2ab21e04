"""The people who use the web desk, their roles, and their passwords (argon2id hashes).

Roles follow the neighbourhood team: an **admin** manages users and settings, an
**analyst** imports data and runs analyses, an **inspector** decides priorities and
publishes updates, a **partner** reads the JAG pack and adds notes. What each role may
do is :data:`PERMISSIONS`, checked on every desk route by the web app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from beatbook.errors import InputError
from beatbook.store import Store

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


def add_user(store: Store, name: str, role: str, password: str) -> User:
    """Create a user, or refuse if the name is taken or the password is too short."""
    username, role = check_username(name), check_role(role)
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password: at least {MIN_PASSWORD} characters")
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
