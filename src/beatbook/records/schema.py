"""The team's records as one SQLAlchemy ``MetaData``: every table people write.

These are the tables that CLI commands and the desk write (INVENTORY of issue 20: users and
sessions, concerns and their private contacts, priorities and their decision trail,
operations and results, engagements, the team's texts and settings, published updates,
custom areas). Crime data and the ONS reference tables stay in ``store.py``'s schema.

The same description serves both backends: the embedded records in the store's DuckDB file
(through duckdb-engine) and PostgreSQL. It matches, column for column, what the store created
before the records had migrations, so existing stores keep their tables as they are. The
tables are created and changed only by the hand-written Alembic revisions in ``migrations/``;
this module says what the newest revision leaves (``tests/records`` compares the two).

Rules that keep one schema working on both dialects (issue 20's spike):

* ``sa.Double``, never ``sa.Float`` (DuckDB's FLOAT is a 4-byte REAL).
* ``autoincrement=False`` on every integer primary key without a Sequence (otherwise the
  PostgreSQL dialect asks DuckDB for BIGSERIAL, which it has not got).
* Ids from a Sequence use ``server_default=seq.next_value()``: ``DEFAULT nextval('…')`` on both.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

TZ = sa.DateTime(timezone=True)  # TIMESTAMPTZ
WALL_CLOCK = sa.DateTime(timezone=False)  # naive TIMESTAMP (Europe/London local time)
TEXT_LIST = sa.ARRAY(sa.String)  # VARCHAR[]

concern_ids = sa.Sequence("concern_ids", start=1, metadata=metadata)
priority_ids = sa.Sequence("priority_ids", start=1, metadata=metadata)
priority_note_ids = sa.Sequence("priority_note_ids", start=1, metadata=metadata)


def _key(name: str, type_: sa.types.TypeEngine[int]) -> sa.Column[int]:
    """An integer primary key whose values the writer supplies (no sequence)."""
    return sa.Column(name, type_, primary_key=True, autoincrement=False)


# --- areas.py ------------------------------------------------------------------------------

# Areas a user defined: a set of LSOAs, wards, or a polygon (WKT, lon/lat).
custom_areas = sa.Table(
    "custom_areas",
    metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("kind", sa.String, nullable=False),  # 'lsoas' | 'wards' | 'polygon'
    sa.Column("members", TEXT_LIST),  # LSOA or ward codes
    sa.Column("polygon_wkt", sa.String),
    sa.Column("description", sa.String),
    sa.Column("created_at", TZ, nullable=False),
)

# --- concerns/ -----------------------------------------------------------------------------

# Residents' concerns. The free text and given coordinates may hold personal details: team
# only. The reporter's contact lives apart, in concern_contacts, and is never read back.
concerns = sa.Table(
    "concerns",
    metadata,
    sa.Column(
        "concern_id",
        sa.BigInteger,
        concern_ids,
        primary_key=True,
        server_default=concern_ids.next_value(),
    ),
    sa.Column("area", sa.String, nullable=False),
    sa.Column("area_name", sa.String, nullable=False),
    sa.Column("reported_on", sa.Date, nullable=False),
    sa.Column("month", sa.Date, nullable=False),
    sa.Column("where_text", sa.String),
    sa.Column("given_longitude", sa.Double),
    sa.Column("given_latitude", sa.Double),
    sa.Column("place", sa.String),
    sa.Column("longitude", sa.Double),
    sa.Column("latitude", sa.Double),
    sa.Column("lsoa_code", sa.String),
    sa.Column("match_method", sa.String),
    sa.Column("match_score", sa.Double),
    sa.Column("match_note", sa.String),
    sa.Column("suggestions", TEXT_LIST),
    sa.Column("problem_text", sa.String),
    sa.Column("problem", sa.String, nullable=False),
    sa.Column("source", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False, server_default="open"),
    sa.Column("closed_on", sa.Date),
    sa.Column("row_sha256", sa.String, nullable=False, unique=True),
    sa.Column("source_file", sa.String),
    sa.Column("source_line", sa.Integer),
    sa.Column("imported_at", TZ, nullable=False),
)

concern_contacts = sa.Table(
    "concern_contacts",
    metadata,
    _key("concern_id", sa.BigInteger()),  # concerns.concern_id
    sa.Column("contact", sa.String, nullable=False),  # private: never exported or shown
)

concern_descriptions = sa.Table(
    "concern_descriptions",
    metadata,
    _key("concern_id", sa.BigInteger()),  # concerns.concern_id
    sa.Column("description", sa.String, nullable=False),  # private, team only
)

# --- operations/ and engagements.py --------------------------------------------------------

operations = sa.Table(
    "operations",
    metadata,
    sa.Column("name", sa.String, primary_key=True),  # unique ignoring case
    sa.Column("starts", sa.Date, nullable=False),
    sa.Column("ends", sa.Date, nullable=False),
    sa.Column("areas", TEXT_LIST, nullable=False),
    sa.Column("description", sa.String),
    sa.Column("updated_at", TZ, nullable=False),
)

# One count per (operation, area, measure); area '*' is the operation-wide total.
operation_results = sa.Table(
    "operation_results",
    metadata,
    sa.Column("operation", sa.String, primary_key=True),
    sa.Column("area", sa.String, primary_key=True),
    sa.Column("measure", sa.String, primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("recorded_by", sa.String, nullable=False),
    sa.Column("recorded_at", TZ, nullable=False),
    sa.Column("source", sa.String, nullable=False),
    sa.CheckConstraint("count >= 0"),
)

# Every change to operation_results, never updated or deleted.
operation_results_audit = sa.Table(
    "operation_results_audit",
    metadata,
    _key("change_id", sa.BigInteger()),
    sa.Column("operation", sa.String, nullable=False),
    sa.Column("area", sa.String, nullable=False),
    sa.Column("measure", sa.String, nullable=False),
    sa.Column("old_count", sa.BigInteger),  # NULL when first recorded
    sa.Column("new_count", sa.BigInteger, nullable=False),
    sa.Column("changed_by", sa.String, nullable=False),
    sa.Column("changed_at", TZ, nullable=False),
    sa.Column("source", sa.String, nullable=False),
)

# Street surveys, school visits, surgeries... (starts and ends: Europe/London wall clock).
engagements = sa.Table(
    "engagements",
    metadata,
    sa.Column("uid", sa.String, primary_key=True),  # iCalendar UID
    sa.Column("starts", WALL_CLOCK, nullable=False),
    sa.Column("ends", WALL_CLOCK, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("place", sa.String, nullable=False),
    sa.Column("area", sa.String),
    sa.Column("area_name", sa.String),
    sa.Column("title", sa.String),
    sa.Column("notes", sa.String),
    sa.Column("source", sa.String, nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),  # iCalendar SEQUENCE
    sa.Column("updated_at", TZ, nullable=False),
)

# --- priorities/ ---------------------------------------------------------------------------

# Written once and never changed; its ids come from priority_ids, fetched before the insert.
priorities = sa.Table(
    "priorities",
    metadata,
    _key("priority_id", sa.Integer()),
    sa.Column("area", sa.String, nullable=False),
    sa.Column("ward", sa.String, nullable=False),
    sa.Column("place", sa.String, nullable=False),
    sa.Column("place_key", sa.String, nullable=False),
    sa.Column("snap_points", sa.JSON, nullable=False),
    sa.Column("problem", sa.String, nullable=False),
    sa.Column("proposed_for", sa.Date, nullable=False),
    sa.Column("origin", sa.String, nullable=False),
    sa.Column("score", sa.Double),
    sa.Column("parts", sa.JSON),
    sa.Column("reason", sa.String),
    sa.Column("created_at", TZ, nullable=False),
)

# The append-only decision trail: a priority's status is its latest event's action.
priority_events = sa.Table(
    "priority_events",
    metadata,
    sa.Column("priority_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("action", sa.String, nullable=False),
    sa.Column("actor", sa.String, nullable=False),
    sa.Column("decided_at", TZ, nullable=False),
    sa.Column("month", sa.Date),
    sa.Column("details", sa.JSON),
)

priority_notes = sa.Table(
    "priority_notes",
    metadata,
    sa.Column(
        "note_id",
        sa.BigInteger,
        priority_note_ids,
        primary_key=True,
        server_default=priority_note_ids.next_value(),
    ),
    sa.Column("priority_id", sa.Integer, nullable=False),
    sa.Column("author", sa.String, nullable=False),
    sa.Column("written_at", TZ, nullable=False),
    sa.Column("text", sa.String, nullable=False),
)

# --- publish/ ------------------------------------------------------------------------------

update_texts = sa.Table(
    "update_texts",
    metadata,
    sa.Column("area", sa.String, primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("markdown", sa.String, nullable=False),
    sa.Column("source", sa.String, nullable=False),
    sa.Column("saved_at", TZ, nullable=False),
)

team_settings = sa.Table(
    "team_settings",
    metadata,
    sa.Column("area", sa.String, primary_key=True),
    sa.Column("toml", sa.String, nullable=False),
    sa.Column("source", sa.String, nullable=False),
    sa.Column("saved_at", TZ, nullable=False),
)

published_updates = sa.Table(
    "published_updates",
    metadata,
    sa.Column("area", sa.String, primary_key=True),
    sa.Column("area_name", sa.String, nullable=False),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("title", sa.String, nullable=False),
    sa.Column("published_by", sa.String, nullable=False),
    sa.Column("published_at", TZ, nullable=False),
)

published_update_files = sa.Table(
    "published_update_files",
    metadata,
    sa.Column("area", sa.String, primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

update_images = sa.Table(
    "update_images",
    metadata,
    sa.Column("area", sa.String, primary_key=True),
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("uploaded_by", sa.String, nullable=False),
    sa.Column("uploaded_at", TZ, nullable=False),
)

# --- users.py ------------------------------------------------------------------------------

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String, primary_key=True),  # lower case
    sa.Column("role", sa.String, nullable=False),
    sa.Column("password_hash", sa.String, nullable=False),  # argon2id, never the password
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", TZ, nullable=False),
)

# The cookie holds a random id; only its SHA-256 is stored. Times are Unix seconds.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id_sha256", sa.String, primary_key=True),
    sa.Column("username", sa.String, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("seen_at", sa.Double, nullable=False),
)

# --- web/limits.py: what every server worker shares (revision 0002) ------------------------

# Wrong passwords per key ('user\x1fNAME\x1fADDRESS' or 'address\x1fADDRESS'); the latest at
# Unix seconds ``last``. Forgotten once older than the memory (settings.py).
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last", sa.Double, nullable=False),
)

# Hits per key in the window that began at Unix seconds ``window_start``.
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("window_start", sa.Double, nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
)

# Secrets the workers share: 'signing' signs CSRF tokens, desk messages and the anonymous
# cookie, so a form served by one worker is accepted by another, and after a restart.
app_secrets = sa.Table(
    "app_secrets",
    metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("value", sa.String, nullable=False),
    sa.Column("created_at", TZ, nullable=False),
)
