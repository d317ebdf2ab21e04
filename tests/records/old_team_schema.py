"""The team's tables exactly as store.py's SCHEMA created them before the records had
migrations (main at 8b14afa, issue 20 step 1): what every store made until then holds.
Frozen here so the tests can build such a store and check the baseline revision adopts it."""

OLD_TEAM_DDL = """
-- Areas a user defined: a set of LSOAs, wards, or a polygon (WKT, lon/lat).
CREATE TABLE IF NOT EXISTS custom_areas (
    name VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,             -- 'lsoas' | 'wards' | 'polygon'
    members VARCHAR[],                 -- LSOA or ward codes
    polygon_wkt VARCHAR,
    description VARCHAR,
    created_at TIMESTAMPTZ NOT NULL
);

-- [concerns] residents' concerns (ingest/concerns.py)
-- The free text (where_text, problem_text) and given coordinates may hold personal
-- details: team only, never in anything public. The reporter's contact lives apart,
-- in concern_contacts, and no BeatBook function reads it back.
CREATE SEQUENCE IF NOT EXISTS concern_ids START 1;

CREATE TABLE IF NOT EXISTS concerns (
    concern_id BIGINT PRIMARY KEY DEFAULT nextval('concern_ids'),
    area VARCHAR NOT NULL,             -- the --area it was recorded for, as areas.reference() names it
    area_name VARCHAR NOT NULL,        -- that area's display name
    reported_on DATE NOT NULL,
    month DATE NOT NULL,               -- first day of reported_on's month
    where_text VARCHAR,                -- the place as the resident gave it (team only)
    given_longitude DOUBLE,            -- coordinates as given (team only)
    given_latitude DOUBLE,
    place VARCHAR,                     -- police.uk snap point, 'On or near Elm Close'; NULL = unmatched
    longitude DOUBLE,                  -- of that snap point
    latitude DOUBLE,
    lsoa_code VARCHAR,                 -- most common LSOA among the snap point's crimes
    match_method VARCHAR,              -- 'street name' | 'coordinates' | 'by hand'; NULL = unmatched
    match_score DOUBLE,                -- 0-100 name similarity; NULL for coordinates
    match_note VARCHAR,                -- why a row is unmatched
    suggestions VARCHAR[],             -- best snap-point names for an unmatched row
    problem_text VARCHAR,              -- the problem as given (team only)
    problem VARCHAR NOT NULL,          -- slug from reference/concern_problems.csv
    source VARCHAR NOT NULL,           -- street-survey | online | partner | phone | meeting | other
    status VARCHAR NOT NULL DEFAULT 'open',  -- 'open' | 'closed'
    closed_on DATE,
    row_sha256 VARCHAR NOT NULL UNIQUE, -- of the parsed row (not the contact): re-import is a no-op
    source_file VARCHAR,               -- NULL when recorded one at a time (web form)
    source_line INTEGER,
    imported_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS concern_contacts (
    concern_id BIGINT PRIMARY KEY,     -- concerns.concern_id
    contact VARCHAR NOT NULL           -- private: never exported, reported, logged or shown
);

-- What a resident wrote about the problem on the web form (concerns/reports.py): private like
-- the contact, shown to the team only (concerns list --free-text), never published or logged.
CREATE TABLE IF NOT EXISTS concern_descriptions (
    concern_id BIGINT PRIMARY KEY,     -- concerns.concern_id
    description VARCHAR NOT NULL
);

-- [operations] operations and engagements (operations.py, engagements.py)
CREATE TABLE IF NOT EXISTS operations (
    name VARCHAR PRIMARY KEY,          -- unique ignoring case
    starts DATE NOT NULL,
    ends DATE NOT NULL,
    areas VARCHAR[] NOT NULL,          -- areas.reference() of each area: resolves back
    description VARCHAR,
    updated_at TIMESTAMPTZ NOT NULL
);

-- One count per (operation, area, measure); area '*' is the operation-wide total.
CREATE TABLE IF NOT EXISTS operation_results (
    operation VARCHAR NOT NULL,
    area VARCHAR NOT NULL,             -- areas.reference() or '*'
    measure VARCHAR NOT NULL,          -- warrants, arrests, charged, custodial_months,
                                       -- safeguarding_visits or other:<label>
    count BIGINT NOT NULL CHECK (count >= 0),
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    source VARCHAR NOT NULL,           -- 'ops record' or 'FILE, line N'
    PRIMARY KEY (operation, area, measure)
);

-- Every change to operation_results, never updated or deleted.
CREATE TABLE IF NOT EXISTS operation_results_audit (
    change_id BIGINT PRIMARY KEY,
    operation VARCHAR NOT NULL,
    area VARCHAR NOT NULL,
    measure VARCHAR NOT NULL,
    old_count BIGINT,                  -- NULL when first recorded
    new_count BIGINT NOT NULL,
    changed_by VARCHAR NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    source VARCHAR NOT NULL
);

-- Engagements: street surveys, school visits, surgeries... (times are Europe/London local).
CREATE TABLE IF NOT EXISTS engagements (
    uid VARCHAR PRIMARY KEY,           -- iCalendar UID: stable, so re-exports update events
    starts TIMESTAMP NOT NULL,         -- local wall-clock time, Europe/London
    ends TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL,             -- street-survey, school-visit, surgery, notice-board,
                                       -- community-meeting, patrol, online, other
    place VARCHAR NOT NULL,
    area VARCHAR,                      -- areas.reference(), NULL for police.uk events without one
    area_name VARCHAR,
    title VARCHAR,
    notes VARCHAR,                     -- published in the calendar: no names or contacts
    source VARCHAR NOT NULL,           -- 'engagements add', 'FILE, line N' or 'police.uk FORCE/ID'
    sequence INTEGER NOT NULL,         -- iCalendar SEQUENCE: +1 on every change
    updated_at TIMESTAMPTZ NOT NULL    -- iCalendar DTSTAMP / LAST-MODIFIED
);

-- [priorities] proposed and adopted priorities (priorities/)
-- A priority row is written once and never changed; what happens to it is the
-- append-only trail in priority_events (its status is the latest event's).
CREATE SEQUENCE IF NOT EXISTS priority_ids START 1;
CREATE TABLE IF NOT EXISTS priorities (
    priority_id INTEGER PRIMARY KEY,
    area VARCHAR NOT NULL,             -- reference of the area it was proposed in
    ward VARCHAR NOT NULL,
    place VARCHAR NOT NULL,            -- label as proposed, e.g. 'Elm Close'
    place_key VARCHAR NOT NULL,        -- ward|name: finds its snap points again
    snap_points JSON NOT NULL,         -- [{location, longitude, latitude}, ...]
    problem VARCHAR NOT NULL,          -- problem group or concern category
    proposed_for DATE NOT NULL,        -- the month it is a priority for
    origin VARCHAR NOT NULL,           -- 'data' | 'residents' | 'partners' | 'mix'
    score DOUBLE,
    parts JSON,
    reason VARCHAR,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS priority_events (
    priority_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,              -- 1, 2, ... per priority
    action VARCHAR NOT NULL,           -- proposed | adopted | rejected | continued | closed
    actor VARCHAR NOT NULL,            -- who decided (a name or role as typed)
    decided_at TIMESTAMPTZ NOT NULL,
    month DATE,                        -- the month the action is for
    details JSON,                      -- reason, edited label, assessment, ...
    PRIMARY KEY (priority_id, seq)
);

-- Notes on a priority by partners and the team (priorities/notes.py): team only, never
-- published; kept apart from priority_events, whose latest action is the status.
CREATE SEQUENCE IF NOT EXISTS priority_note_ids START 1;
CREATE TABLE IF NOT EXISTS priority_notes (
    note_id BIGINT PRIMARY KEY DEFAULT nextval('priority_note_ids'),
    priority_id INTEGER NOT NULL,      -- priorities.priority_id
    author VARCHAR NOT NULL,           -- the desk user who wrote it
    written_at TIMESTAMPTZ NOT NULL,
    text VARCHAR NOT NULL
);

-- [updates] community updates (publish/update.py)
-- The team's own words for a monthly update (inspector's message, news, partner
-- notices), as Markdown with '## ' headed sections; published as written.
CREATE TABLE IF NOT EXISTS update_texts (
    area VARCHAR NOT NULL,             -- areas.reference()
    month DATE NOT NULL,               -- the month the update is for
    markdown VARCHAR NOT NULL,
    source VARCHAR NOT NULL,           -- the file it was read from
    saved_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (area, month)
);

-- A team's settings for its updates (name, contact, reporting channels) as TOML.
CREATE TABLE IF NOT EXISTS team_settings (
    area VARCHAR PRIMARY KEY,          -- areas.reference()
    toml VARCHAR NOT NULL,
    source VARCHAR NOT NULL,           -- the file, or 'desk: USER'
    saved_at TIMESTAMPTZ NOT NULL
);

-- Published community updates: what the public pages serve, exactly as published.
CREATE TABLE IF NOT EXISTS published_updates (
    area VARCHAR NOT NULL,             -- areas.reference()
    area_name VARCHAR NOT NULL,
    month DATE NOT NULL,
    title VARCHAR NOT NULL,
    published_by VARCHAR NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (area, month)
);
CREATE TABLE IF NOT EXISTS published_update_files (
    area VARCHAR NOT NULL,
    month DATE NOT NULL,
    name VARCHAR NOT NULL,             -- update.html, update.pdf, update.txt, map.png, ...
    data BLOB NOT NULL,
    PRIMARY KEY (area, month, name)
);

-- Images the team uploaded for its text (publish/team_images.py): the only pictures the
-- team's Markdown may show. Re-encoded on upload (PNG or JPEG, metadata dropped).
CREATE TABLE IF NOT EXISTS update_images (
    area VARCHAR NOT NULL,             -- areas.reference()
    name VARCHAR NOT NULL,             -- e.g. 'pcso-surgery.jpg', as the Markdown names it
    data BLOB NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    uploaded_by VARCHAR NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (area, name)
);

-- [web] the web desk's users (web/, users.py)
CREATE TABLE IF NOT EXISTS users (
    username VARCHAR PRIMARY KEY,      -- lower case
    role VARCHAR NOT NULL,             -- admin | analyst | inspector | partner
    password_hash VARCHAR NOT NULL,    -- argon2id (argon2-cffi), never the password
    disabled BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMPTZ NOT NULL
);

-- Signed-in desk sessions (users.py). The cookie holds a random id; only its SHA-256 is
-- stored, so the table cannot be replayed as cookies. Deleting a row ends the session at
-- once (sign-out, a password change, an admin). Added without a version bump: every
-- read-write open creates it, and nothing that opens a store read-only reads it.
CREATE TABLE IF NOT EXISTS sessions (
    id_sha256 VARCHAR PRIMARY KEY,     -- of the cookie's random id, never the id itself
    username VARCHAR NOT NULL,         -- users.username
    created_at DOUBLE NOT NULL,        -- sign-in, Unix time: the lifetime counts from here
    seen_at DOUBLE NOT NULL            -- the latest request, Unix time: idle expiry
);
"""
