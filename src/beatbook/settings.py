"""Every default the command line, the web and the library show, with its bounds and why.

One place for each number a user meets as a default or a limit, so the CLI's ``--help``,
the web forms and the library functions cannot drift apart. They live apart from the
analysis that uses them so that ``beatbook --help`` can show them without importing scipy,
statsmodels or matplotlib (seconds at start-up): this module imports nothing from beatbook
but :mod:`beatbook.errors`.

A bounded option has a :class:`Bound`; ``BOUND.check(value, "--option")`` returns the value
or raises :class:`~beatbook.errors.InputError` naming the option and the range, so the CLI
and the web refuse the same values with the same message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from beatbook.errors import InputError


@dataclass(frozen=True)
class Bound:
    """The whole numbers ``low`` to ``high`` (both included) an option accepts."""

    low: int
    high: int
    unit: str = ""  # said after the range: "expected 50 to 500 metres"

    def __str__(self) -> str:
        return f"{self.low} to {self.high}"

    def check(self, value: int, option: str, note: str = "") -> int:
        """``value`` if it is in the range; else an InputError such as
        ``--per-ward 0: expected 1 to 10`` (``note`` is added in brackets)."""
        if not self.low <= value <= self.high:
            unit = f" {self.unit}" if self.unit else ""
            extra = f" ({note})" if note else ""
            raise InputError(f"{option} {value}: expected {self}{unit}{extra}")
        return value


@dataclass(frozen=True)
class Length:
    """Free text of at most ``high`` characters (after spaces are collapsed), and why."""

    high: int
    why: str  # said after the limit: "at most 80 characters (a line of the printed update)"

    def check(self, text: str | None, option: str) -> str | None:
        """``text`` with its spaces collapsed (None when empty) if it fits; else an
        InputError such as ``--title: 1,204 characters; at most 100 (...)``."""
        value = " ".join((text or "").split()) or None
        if value is not None and len(value) > self.high:
            raise InputError(
                f"{option}: {len(value):,} characters; at most {self.high:,} ({self.why})"
            )
        return value


# --- hotspots (beatbook hotspots, forecast, evaluate; the desk map) ---------------------------

# Grid cells of 150 m: about a street block. Smaller cells hold too few crimes a month for a
# test, larger ones hide which street it is (docs/statistics.md#hotspots).
CELL_SIZE = 150
CELL_SIZE_RANGE = Bound(50, 500, "metres")

# Conditional permutations behind each Gi* p-value. With N permutations no p is below
# 2/(N+1); 9,999 lets a cell survive the false-discovery-rate control across a few thousand
# cells (docs/statistics.md#hotspots). At most 99,999: a map then takes minutes.
PERMUTATIONS = 9999
PERMUTATIONS_RANGE = Bound(1, 99_999)

# The false-discovery rate (Benjamini-Hochberg) across a map's cells: the usual 5%.
FDR_ALPHA = 0.05

# Months an emerging-hotspot class may look back over (--emerging; 0 means none): fewer
# than 3 is no trend, more than 60 costs 60 maps.
EMERGING_RANGE = Bound(3, 60, "months")

# The cell forecast of `beatbook forecast`: the negative-binomial GLM, at or above the best
# baseline in the backtest and faster than sepp (benchmarks/README.md, benchmarks/forecast.py).
CELL_FORECAST_METHOD = "glm"

# --- priorities (beatbook priorities propose, jag; /desk/priorities, /desk/jag) -------------

# The forecast behind proposed priorities: it must be in expected crimes ("about N next
# month"), which the GLM's scores are not; of those, the self-exciting point process
# (benchmarks/forecast.py).
FORECAST_METHOD = "sepp"

# A priority's forecast under its recent level by more than this factor says why beside it
# (the forecast weighs the place's longer history, and a sudden rise usually falls back part
# of the way): "about 3.1 expected" after 15.3 a month would otherwise read as an error.
FORECAST_PLAUSIBLE = 2.0

# Candidates proposed per ward: a short list a ward's meeting can discuss; at most ten, so
# the desk page and the JAG pack (which maps every candidate) stay readable.
PER_WARD = 3
PER_WARD_RANGE = Bound(1, 10)

# The parts of a priority's score count equally unless the team says otherwise.
WEIGHT_VOLUME = 1.0
WEIGHT_CHANGE = 1.0
WEIGHT_FORECAST = 1.0
WEIGHT_CONCERNS = 1.0
# Drug offences are proactive: police.uk records them when police find them, so their count
# measures police activity as much as dealing, and understates what residents see. Residents'
# concerns about a problem whose crime types are all proactive (drugs) therefore count a
# second time, openly, as the score's fifth part ("proactive", on the concerns part's scale,
# so with both weights at 1 each such concern counts twice). On the demo (West Leicester, data
# to 2021-06) it takes drug offences at Tudor Road, with two residents' concerns about
# dealing, from sixth in Fosse to second (benchmarks/README.md, "Priorities backtest").
WEIGHT_PROACTIVE = 1.0

# A priority the team places by a point on the map takes the police.uk street point nearest
# to it within 150 m: police.uk's points lie a street or two apart in towns, so 150 m finds
# one from anywhere on a built-up street, and refuses a click outside the area. Up to 500 m
# for rural areas, whose points are sparse.
PLACE_RADIUS = 150
PLACE_RADIUS_RANGE = Bound(25, 500, "metres")

# ASB has no Cambridge Crime Harm Index weight (it is not a crime); 10 days puts one incident
# level with a public order offence, its nearest criminal counterpart (the ONS crime severity
# score weighs "public fear, alarm or distress" 7.58, the same order).
ASB_HARM_DAYS = 10.0

# Stored months a priority's assessment compares with, before the months the proposal was
# selected on (those are kept apart: regression to the mean; difference in differences,
# docs/statistics.md): half a year evens out one month's noise; up to two years.
BEFORE_MONTHS = 6
BEFORE_MONTHS_RANGE = Bound(1, 24)

# --- figures and publications ----------------------------------------------------------------

# A monthly trend is fitted only on at least this many months with data: fewer and the
# quasi-Poisson slope is mostly noise (stats/trend.py refuses fewer too).
MIN_TREND_MONTHS = 6

# A change, comparison or rank allows for over-dispersion estimated from the monthly counts
# only with at least this many residual degrees of freedom (6 months matched each side);
# fewer, and the estimate is mostly noise: the exact Poisson test is used, and says so
# (stats/overdispersed.py, docs/statistics.md).
MIN_DISPERSION_DF = 5

# Months in a trend chart (the desk dashboard, the community update): a year and the month,
# so the latest month and the same month a year before both show.
TREND_MONTHS = 13

# The public figures of an area (/stats/{area}, the dashboard's rate) cover the latest year,
# so every season counts once; up to ten years.
SUMMARY_MONTHS = 12
# What stats, compare, rank and the pages count unless told: crimes, ASB reported apart.
DEFAULT_MEASURE = "crime"
SUMMARY_MONTHS_RANGE = Bound(1, 120)

# Weeks of engagements the community update lists and the public calendar shows by
# default: the update's month and a fortnight beyond, until the next update is out.
UPCOMING_WEEKS = 6
# Any window of engagements (update, /events, /api/events): up to half a year ahead.
WEEKS_RANGE = Bound(1, 26)

# --- ingest (beatbook ingest; docs/data.md#what-an-import-may-replace) -----------------------

# A file may replace a stored (force, month, kind) with up to 2% fewer rows unless the user
# says --replace: a re-publication updates outcomes and moves the odd record, a few rows in
# thousands; losing more than 1 row in 50 is a cut-short, filtered or wrong file far more
# often than police.uk's doing, and replacing would delete the difference.
SHRINK_TOLERANCE = 0.02

# The text of one CSV, decompressed: police.uk's largest monthly files (the Met's street
# and outcomes, ~100,000 rows, ~30 MB) fit 16 times over. A file's rows are held in memory
# while it is checked, so a larger one is refused unread rather than read.
MAX_FILE_BYTES = 512 << 20

# Decompressed bytes per stored byte of a .csv.gz or zip member: police.uk's CSVs deflate
# about 5-fold (street, outcomes) to 14-fold (stop and search); a decompression bomb or a
# flood of blank lines reaches 1,000-fold. Checked once a file's text passes 1 MiB (small
# files compress oddly and cost nothing).
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 1 << 20

# Empty lines in one file: police.uk's files have none; files pasted together have a few.
# More is a flood, refused unread: DuckDB's CSV reader loses the rows after a long run of
# empty lines (~2 MB of them), and nothing may be lost silently.
MAX_EMPTY_LINES = 10_000

# The desk's import page (/desk/import): the files of one upload together, as sent, at most
# 1 GiB. A month of one force's street file is about 0.4 MB gzipped (Leicestershire), so
# years of a force's files fit many times over; past it the upload is refused before
# anything is stored. The files are written to a temporary folder as they arrive and the
# server's disk holds them while they are imported. Larger imports (national archives) run
# on the server with the import command, which reads the files where they lie.
UPLOAD_MAX_BYTES = 1 << 30

# --- months and dates a person gives (CLI, desk, public pages; docs/cli.md#months-and-dates) --

# A month a decision, an update or a figure is for (priorities adopt, continue, close and
# assess; beatbook update; stats --from/--to; /stats?to=; the desk's month) must be a month
# of the stored police.uk data or at most 6 after the latest: police.uk publishes a month
# about two months after it ends, so the month being decided is usually two or three after
# the data, and a team may continue a priority a quarter beyond that. Further out is a slip
# (2205 for 2025, 9999-12), never a plan, and it would sit in the append-only trail for good.
MONTHS_AFTER_DATA = 6

# A day (an engagement, a concern, an operation, /events?from=) must lie from 2000-01-01 (the
# police.uk data start in December 2010; nothing the team records is older) to the end of
# the year 5 years from today (operations and events are planned months ahead, not years).
# Outside that is a typing slip (0021 for 2021) that would reach the calendar and the print.
FIRST_DAY = dt.date(2000, 1, 1)
YEARS_AHEAD = 5

# --- free text the team types (desk forms, CLI options, CSV cells; printed and published) ---

# Operation names are the heading of a block in the JAG pack and the community update: one
# line of A4 with the dates beside it. Names like "Operation Nightjar" need 20.
OPERATION_NAME = Length(80, "an operation's name is one heading line of the printed update")
# Descriptions, engagement notes and the reasons and notes of decisions: a short paragraph,
# about six lines of A4 (the same limit as a resident's free text, concerns.MAX_TEXT).
DESCRIPTION = Length(500, "about six lines of the printed page")
# Engagement titles and places share a table row of the update's calendar with the date.
ENGAGEMENT_TITLE = Length(100, "a title is one cell of the printed calendar")
PLACE = Length(120, "a place is one cell of the printed calendar and the priorities list")
# A priority's label leads its line in the update ("Elm Close: drug dealing").
PRIORITY_LABEL = Length(80, "a priority's place label leads one line of the printed update")
# A measure of an operation (other:<label>) is a table heading of the roll-up.
MEASURE_LABEL = Length(40, "a measure is a heading of the operation's roll-up")

# --- the web app: sessions, sign-in, server limits (beatbook serve; docs/web.md) -------------

# A desk session ends after 30 minutes without a request: the desk shows residents' own words
# and runs on shared station computers, and 30 minutes is the upper end of the idle timeout
# OWASP's session guidance gives for such data, long enough to write an update without
# losing it.
SESSION_IDLE_SECONDS = 30 * 60
# ... and 12 hours after sign-in whatever happens: the longest common police shift, so a
# session never outlives the shift it began in by more than a few hours.
SESSION_LIFETIME_SECONDS = 12 * 3600

# Wrong passwords for one username from one address: the first 5 in an hour cost nothing
# (typos); after them each try waits twice as long as the last, from 30 seconds up to 15
# minutes, so guessing gets about four tries an hour while the user behind another address
# is not held up at all. Sign-ins that succeed never count and clear that pair's failures.
LOGIN_FREE_FAILURES = 5
LOGIN_FIRST_DELAY_SECONDS = 30.0
LOGIN_MAX_DELAY_SECONDS = 15 * 60.0
LOGIN_FAILURE_MEMORY_SECONDS = 3600.0
# The same, per address over all usernames (guessing one password for many users), from
# many more failures: a station's whole team can mistype without being slowed.
LOGIN_ADDRESS_FREE_FAILURES = 50

# uvicorn (beatbook serve): at most 500 connections at once, half the usual 1,024 open-file
# limit, so the store and the log keep their files; past it the oldest idle connection
# (one without a request in progress) is closed first, so held-open connections cannot
# crowd out real requests.
SERVER_MAX_CONNECTIONS = 500
# A request's headers must arrive within 10 seconds of the connection opening (or of the
# last answer): a browser sends them in one packet; slow senders only hold a connection.
SERVER_HEADER_TIMEOUT_SECONDS = 10.0
# An idle keep-alive connection is closed after 5 seconds (uvicorn's default; browsers open
# a new one at once).
SERVER_KEEP_ALIVE_SECONDS = 5
# beatbook serve --workers N: a worker must answer its supervisor within 30 seconds (its
# start included) or it is killed and started again (uvicorn's 5 s killed workers still
# importing on a busy machine).
SERVER_WORKER_START_SECONDS = 30
# While the team's records' database cannot be reached (restarting), pages answer 503 and ask
# to try again after this many seconds: PostgreSQL restarts in a few.
RECORDS_RETRY_AFTER_SECONDS = 10
# Public figures a page works out (an area's statistics page takes a second or more) are kept
# for 60 seconds per worker and per version of the store file (web/cache.py): an import shows
# at the next request, a change on the desk (a team name, a custom area) within a minute.
# At most 256 are kept, the least recently used dropped first (the keys come from URLs).
PAGE_CACHE_SECONDS = 60.0
PAGE_CACHE_ENTRIES = 256
# A request head still incomplete past 16 KiB is refused (h11's default; BeatBook's cookies
# are short): a slow client cannot make the server buffer more per connection.
SERVER_MAX_HEADER_BYTES = 16 * 1024
# The same warning or error is logged at most 10 times a minute; the rest are counted and
# the count is logged with the next one (a flood of bad requests cannot fill the disk).
LOG_BURST = 10
LOG_INTERVAL_SECONDS = 60.0
