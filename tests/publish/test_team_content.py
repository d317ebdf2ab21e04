"""The team's own words for its community update: the Markdown sections, the settings file and
the text kept in the store. Errors name the file (and the line); a bad file changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beatbook.errors import InputError
from beatbook.publish import team_content
from beatbook.publish.team_content import (
    Channel,
    load_settings,
    parse_sections,
    save_text,
    stored_sections,
)
from beatbook.store import Store

AREA = "custom:West"
JULY, AUGUST = dt.date(2021, 7, 1), dt.date(2021, 8, 1)


# --- sections -------------------------------------------------------------------------------


def test_sections_are_split_by_heading() -> None:
    text = (
        "\n## From your inspector ##\n\nThank you.\n\n### A smaller heading\n\nMore.\n\n"
        "## News\n- one\n- two\n"
    )
    sections = parse_sections(text, "july.md")
    assert [(s.heading, s.markdown) for s in sections] == [
        ("From your inspector", "Thank you.\n\n### A smaller heading\n\nMore."),
        ("News", "- one\n- two"),
    ]
    assert sections[1].html == "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\nHello first.\n## News\nText\n", "july.md, line 2: text before the first '## Heading'"),
        ("## News\nText\n# July update\nMore\n", "july.md, line 3: use '## Heading' sections"),
        ("## News\n\n   \n## Events\nText\n", "july.md, line 1: section 'News' is empty"),
        (
            "## News\nText\n## Events\nMore\n## news\nAgain\n",
            "july.md, line 5: section 'news' appears twice",
        ),
        ("Just text, no heading at all\n", "july.md, line 1: text before the first"),
        ("\n\n", "july.md: no '## Heading' sections found"),
    ],
    ids=["text-before-heading", "title", "empty-section", "duplicate", "no-heading", "blank"],
)
def test_section_errors_name_the_source_and_line(text: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_sections(text, "july.md")
    assert str(caught.value).startswith(expected), str(caught.value)


def test_raw_html_is_shown_as_text() -> None:
    (section,) = parse_sections(
        '## Notice\n<script>alert(1)</script> <b onclick="x()">hi</b> & **bold**\n', "t.md"
    )
    assert "<script" not in section.html and "<b " not in section.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section.html
    assert "&amp;" in section.html and "<strong>bold</strong>" in section.html


# Headings and body lines: letters, digits, punctuation and spaces; never '#' (a heading
# marker) nor a line break of any kind, so a line is a heading only where the test says.
_chars = st.characters(categories=("L", "N", "P", "Zs"), exclude_characters="#")
_heading = st.text(_chars, min_size=1, max_size=30).map(str.strip).filter(bool)
_line = st.text(_chars, max_size=40)
_body = (
    st.lists(_line, min_size=1, max_size=5).map(lambda lines: "\n".join(lines).strip()).filter(bool)
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(_heading, _body), min_size=1, max_size=6, unique_by=lambda hb: hb[0].casefold()
    )
)
def test_sections_round_trip(sections: list[tuple[str, str]]) -> None:
    text = "".join(f"## {heading}\n\n{body}\n\n" for heading, body in sections)
    parsed = parse_sections(text, "generated.md")
    assert [(s.heading, s.markdown) for s in parsed] == sections


# --- settings -------------------------------------------------------------------------------


def test_settings_defaults_and_a_full_file(tmp_path: Path) -> None:
    default = load_settings(None)
    assert default.team is None and default.contact is None
    assert default.team_name("West") == "West neighbourhood team"
    assert [c.label for c in default.channels][:2] == ["In an emergency", "Not an emergency"]
    path = tmp_path / "team.toml"
    path.write_text(
        'team = "West NPT"\ncontact = " west@example.org "\n'
        '[[reporting]]\nlabel = "Online"\nhow = "leics.police.uk/report"\n',
        encoding="utf-8",
    )
    loaded = load_settings(path)
    assert (loaded.team_name("West"), loaded.contact) == ("West NPT", "west@example.org")
    assert loaded.channels == (Channel("Online", "leics.police.uk/report"),)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('team = "West\n', "not valid TOML"),
        (
            'team = "West"\nphone = "101"\n',
            "unknown setting 'phone'; expected calendar_url, contact, email, officers, "
            "report_url, reporting, team",
        ),
        ("reporting = []\n", "reporting: expected one or more [[reporting]] tables"),
        ('[[reporting]]\nlabel = "Online"\n', "reporting 1 how: expected non-empty text"),
        ('team = "  "\n', "team: expected non-empty text"),
        (b"team = '\xff'\n", "not UTF-8 text"),
    ],
    ids=["bad-toml", "unknown-key", "empty-reporting", "no-how", "blank-team", "not-utf8"],
)
def test_settings_errors_name_the_file(tmp_path: Path, content: str | bytes, expected: str) -> None:
    path = tmp_path / "team.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert expected in message


def test_missing_settings_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read settings"):
        load_settings(tmp_path / "nowhere.toml")


# --- the text kept in the store ----------------------------------------------------------------


def _stored_rows(store: Store) -> list[tuple[object, ...]]:
    return store.rows("SELECT area, month, markdown, source FROM update_texts ORDER BY month")


def test_save_text_replaces_and_a_bad_file_changes_nothing(tmp_path: Path) -> None:
    first, second, bad = tmp_path / "first.md", tmp_path / "second.md", tmp_path / "bad.md"
    first.write_text("## Message\nFirst words.\n", encoding="utf-8")
    second.write_text("## Message\nSecond words.\n\n## News\nA new PCSO.\n", encoding="utf-8")
    bad.write_text("Forgot the heading.\n## Message\nThird words.\n", encoding="utf-8")
    with Store(tmp_path / "store.duckdb") as st:
        assert stored_sections(st, AREA, JULY) == []
        save_text(st, AREA, JULY, first)
        save_text(st, AREA, AUGUST, first)
        returned = save_text(st, AREA, JULY, second)
        kept = stored_sections(st, AREA, JULY)
        assert [(s.heading, s.markdown) for s in kept] == [
            ("Message", "Second words."),
            ("News", "A new PCSO."),
        ]
        assert kept == returned and kept[0].html == "<p>Second words.</p>"
        assert [(s.heading, s.markdown) for s in stored_sections(st, AREA, AUGUST)] == [
            ("Message", "First words.")
        ]
        before = _stored_rows(st)
        assert [(r[1], r[3]) for r in before] == [(JULY, "second.md"), (AUGUST, "first.md")]
        with pytest.raises(InputError, match=rf"{bad}, line 1: text before the first"):
            save_text(st, AREA, JULY, bad)
        bad.write_bytes(b"## Message\n\xff\xfe\n")
        with pytest.raises(InputError, match=rf"{bad}: not UTF-8 text"):
            save_text(st, AREA, JULY, bad)
        with pytest.raises(InputError, match="cannot read"):
            save_text(st, AREA, JULY, tmp_path / "missing.md")
        assert _stored_rows(st) == before
        assert stored_sections(st, "custom:Elsewhere", JULY) == []


def test_stored_sections_in_a_store_made_before_texts_were_kept(tmp_path: Path) -> None:
    import duckdb

    from beatbook.errors import StoreError

    path = tmp_path / "old.duckdb"
    Store(path).close()
    with duckdb.connect(str(path)) as con:  # as a store made before texts (and issue 20)
        con.execute("DROP TABLE update_texts")
        con.execute("DROP TABLE alembic_version")
    with pytest.raises(StoreError, match="open it once for writing"):
        Store(path, read_only=True)  # read-only: refused, saying how to upgrade
    with Store(path) as st:  # read-write: gains the table
        assert team_content.stored_sections(st, AREA, JULY) == []


def test_settings_are_kept_per_area_and_a_bad_text_replaces_nothing(writable_store) -> None:
    from beatbook.publish.team_content import save_settings, stored_settings, stored_settings_text

    assert stored_settings(writable_store, "custom:A") == team_content.Settings()
    save_settings(writable_store, "custom:A", 'team = "Team A"', "a.toml")
    assert stored_settings(writable_store, "custom:A").team == "Team A"
    assert stored_settings(writable_store, "custom:B").team is None  # per area
    with pytest.raises(InputError, match="b.toml"):
        save_settings(writable_store, "custom:A", "team = ", "b.toml")
    assert stored_settings_text(writable_store, "custom:A") == 'team = "Team A"'
