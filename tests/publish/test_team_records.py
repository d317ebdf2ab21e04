"""The team's text, settings, images and published updates on both backends of the team's
records (embedded DuckDB and PostgreSQL): what is saved reads back the same, bytes for bytes,
and saving again replaces it, checked against the tables read with plain SQL."""

from __future__ import annotations

import datetime as dt
import io

import sqlalchemy as sa
from PIL import Image as PILImage

from beatbook.publish import published, team_content, team_images
from beatbook.records.engine import utc_text
from beatbook.store import Store

AREA, OTHER = "custom:West", "custom:East"
JULY, AUGUST = dt.date(2021, 7, 1), dt.date(2021, 8, 1)


def _sql(store: Store, query: str, **params: object) -> list[tuple[object, ...]]:
    """Rows of a plain SQL query on the team's records (not through the module under test)."""
    with store.team_records.connect() as c:
        return [tuple(r) for r in c.execute(sa.text(query), params).all()]


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def test_text_and_settings_are_saved_replaced_and_read_back(team_store: Store) -> None:
    team_content.save_text_string(team_store, AREA, JULY, "## News\r\nFirst.\r\n", "desk, ana")
    team_content.save_text_string(team_store, AREA, JULY, "## News\nSecond, £5 café.\n", "desk, bo")
    team_content.save_text_string(team_store, AREA, AUGUST, "## Events\nFair.\n", "desk, ana")
    assert team_content.stored_text(team_store, AREA, JULY) == (
        "## News\nSecond, £5 café.\n",
        "desk, bo",
    )
    assert team_content.stored_text(team_store, OTHER, JULY) is None
    [section] = team_content.stored_sections(team_store, AREA, AUGUST)
    assert (section.heading, section.markdown) == ("Events", "Fair.")
    assert _sql(team_store, "SELECT area, month, source FROM update_texts ORDER BY month") == [
        (AREA, JULY, "desk, bo"),
        (AREA, AUGUST, "desk, ana"),
    ]

    team_content.save_settings(team_store, AREA, 'team = "West team"', "west.toml")
    team_content.save_settings(team_store, AREA, 'team = "West NPT"', "desk: ana")
    assert team_content.stored_settings_text(team_store, AREA) == 'team = "West NPT"'
    assert team_content.stored_settings(team_store, AREA).team == "West NPT"
    assert team_content.stored_settings_text(team_store, OTHER) is None
    [(source, saved_at)] = _sql(team_store, "SELECT source, saved_at FROM team_settings")
    assert source == "desk: ana"
    assert isinstance(saved_at, dt.datetime)
    assert abs((dt.datetime.now(dt.UTC) - saved_at).total_seconds()) < 60


def test_images_read_back_byte_for_byte(team_store: Store) -> None:
    red = team_images.prepare(_png((30, 20), (200, 0, 0)), "Red Dot.PNG")
    blue = team_images.prepare(_png((10, 40), (0, 0, 200)), "blue.png")
    team_images.save_image(team_store, AREA, red, "ana")
    team_images.save_image(team_store, AREA, blue, "ana")
    team_images.save_image(team_store, OTHER, red, "cy")
    assert team_images.image_names(team_store, AREA) == {"red-dot.png", "blue.png"}
    files = team_images.image_files(team_store, AREA, ["red-dot.png", "missing.png", "blue.png"])
    assert files == {"team-red-dot.png": red.data, "team-blue.png": blue.data}
    assert team_images.image_files(team_store, AREA, []) == {}

    bigger = team_images.prepare(_png((60, 50), (0, 200, 0)), "red-dot.png")
    team_images.save_image(team_store, AREA, bigger, "bo")  # the same name: replaced
    listed = team_images.list_images(team_store, AREA)
    raw = _sql(
        team_store,
        "SELECT name, width, height, data, uploaded_by, uploaded_at FROM update_images "
        "WHERE area = :area ORDER BY name",
        area=AREA,
    )
    assert [(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in raw] == [
        ("blue.png", 10, 40, blue.data, "ana"),
        ("red-dot.png", 60, 50, bigger.data, "bo"),
    ]
    assert listed == [
        {
            "name": name,
            "width": width,
            "height": height,
            "bytes": len(bytes(data)),
            "uploaded_by": by,
            "uploaded_at": utc_text(at, "%Y-%m-%d %H:%M UTC"),
        }
        for name, width, height, data, by, at in raw
    ]
    assert str(listed[0]["uploaded_at"]).endswith(" UTC")
    assert team_images.image_files(team_store, AREA, ["red-dot.png"]) == {
        "team-red-dot.png": bigger.data
    }


def test_a_publication_is_stored_listed_and_replaced(team_store: Store) -> None:
    pdf = bytes(range(256)) * 40  # every byte value, NUL included
    first = published.Publication(
        AREA, "West", JULY, "July in West", {"index.html": b"<p>hi</p>", "update.pdf": pdf}
    )
    assert published.store_publication(team_store, first, " ana ") == {
        "area": AREA,
        "area_name": "West",
        "month": "2021-07",
        "title": "July in West",
        "files": ["index.html", "update.pdf"],
    }
    published.store_publication(
        team_store, published.Publication(OTHER, "East", AUGUST, "August", {"a.txt": b"x"}), "bo"
    )
    assert published.published_file(team_store, AREA, "2021-07", "update.pdf") == (
        pdf,
        "application/pdf",
    )
    assert published.published_file(team_store, AREA, "2021-08", "update.pdf") is None

    again = published.Publication(AREA, "West", JULY, "July, again", {"index.html": b"<p>2</p>"})
    published.store_publication(team_store, again, "bo")  # replaces every file of July
    assert published.published_file(team_store, AREA, "2021-07", "update.pdf") is None
    assert published.published_file(team_store, AREA, "2021-07", "index.html") == (
        b"<p>2</p>",
        "text/html; charset=utf-8",
    )
    assert _sql(
        team_store, "SELECT area, month, name FROM published_update_files ORDER BY area"
    ) == [(OTHER, AUGUST, "a.txt"), (AREA, JULY, "index.html")]

    listed = published.list_published(team_store)
    raw = _sql(team_store, "SELECT area, published_at FROM published_updates")
    at = {area: utc_text(when) for area, when in raw}
    assert listed == [
        {
            "area": OTHER,
            "area_name": "East",
            "month": "2021-08",
            "title": "August",
            "published_by": "bo",
            "published_at": at[OTHER],
        },
        {
            "area": AREA,
            "area_name": "West",
            "month": "2021-07",
            "title": "July, again",
            "published_by": "bo",
            "published_at": at[AREA],
        },
    ]
    assert str(at[AREA]).endswith("Z")
