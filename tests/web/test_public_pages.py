"""The public pages added for issue 18, on the real scenario store (``web_support``): the
figures by crime type against the rest of the district and force area (counted again by the
tests' own SQL), no statistical jargon, the team's name from its settings in the header,
street and postcode search, and the priorities map's data.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest
from fastapi.testclient import TestClient
from web_support import AREA, SECRET, current_priorities, text_of, ward_codes, west_lsoas

from beatbook.publish.team_content import save_settings
from beatbook.store import Store
from beatbook.web import create_app
from support.records_backend import TeamSQL, attached

ASB = "Anti-social behaviour"
JARGON = ["p-value", "p =", "p <", "95%", " ci ", "(ci", "lsoa", "holm", "poisson", "significan"]
FIRST, LAST = "2021-01-01", "2021-12-01"


def main(page: str) -> str:
    return page[page.index("<main>") : page.index("</main>")]


def ward_lsoas(db: duckdb.DuckDBPyConnection, code: str) -> list[str]:
    rows = db.execute("SELECT lsoa_code FROM lsoa_lookup WHERE ward_code = ?", [code]).fetchall()
    return [r[0] for r in rows]


def by_type(db: duckdb.DuckDBPyConnection, where: str, params: list) -> dict[str, int]:
    """Crimes (ASB apart) of 2021 by type, straight from street_crimes."""
    rows = db.execute(
        "SELECT crime_type, count(*) FROM street_crimes WHERE month BETWEEN ?::DATE AND ?::DATE "
        f"AND {where} GROUP BY 1",
        [FIRST, LAST, *params],
    ).fetchall()
    return dict(rows)


def residents(db: duckdb.DuckDBPyConnection, lsoas11: list[str]) -> float:
    """Mid-2022 residents of these 2011 LSOAs, through the ONS bridge to 2021 codes."""
    (n,) = db.execute(
        "SELECT sum(population) FROM population WHERE year = 2022 AND lsoa_code IN "
        "(SELECT lsoa21_code FROM lsoa_bridge WHERE lsoa11_code IN (SELECT unnest(?::VARCHAR[])))",
        [lsoas11],
    ).fetchone()
    return float(n)


def table_rows(page: str) -> dict[str, list[str]]:
    """The by-type table: crime type -> its cells' text."""
    table = page[page.index('<table class="by-type">') :]
    table = table[: table.index("</table>")]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
        cells = [text_of(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)]
        rows[cells[0]] = cells[1:]
    return rows


# --- /stats/{area} by crime type --------------------------------------------------------------


def test_a_wards_crimes_by_type_against_the_rest_of_its_district_and_force(
    client: TestClient, store_sql
) -> None:
    code = ward_codes(store_sql)["Westcotes"]
    lsoas = ward_lsoas(store_sql, code)
    page = client.get(f"/stats/{code}?to=2021-12")
    assert page.status_code == 200
    rows = table_rows(page.text)
    here = by_type(store_sql, "lsoa_code IN (SELECT unnest(?::VARCHAR[]))", [lsoas])
    crimes = {t: n for t, n in here.items() if t != ASB}
    assert {t: int(cells[0].replace(",", "")) for t, cells in rows.items()} == crimes
    assert ASB not in rows  # apart, never a crime type
    body = text_of(main(page.text))
    assert f"{sum(crimes.values()):,} crimes in 12 months" in body
    assert f"{here[ASB]:,} incidents in the same months" in body
    # the rest of Leicester (the district police.uk names), and of the force's whole area
    leicester = [
        r[0]
        for r in store_sql.execute(
            "SELECT lsoa_code FROM lsoa_lookup WHERE lad_name = 'Leicester'"
        ).fetchall()
    ]
    rest = sorted(set(leicester) - set(lsoas))
    district = by_type(store_sql, "lsoa_code IN (SELECT unnest(?::VARCHAR[]))", [rest])
    pop_here, pop_rest = residents(store_sql, lsoas), residents(store_sql, rest)
    header = re.findall(r'<th scope="col">(.*?)</th>', page.text)
    assert header[-2:] == ["Rest of Leicester", "Rest of Leicestershire"]
    for crime_type, cells in rows.items():
        own = crimes[crime_type] / pop_here * 1000
        other = district.get(crime_type, 0) / pop_rest * 1000
        assert cells[1] == f"{own:,.1f}"
        value, words = cells[2].split(": ")
        assert value == f"{other:,.1f}", crime_type
        # "clearly" only in the direction of the rates; a big gap on big counts is clear
        if words == "clearly higher":
            assert own > other
        elif words == "clearly lower":
            assert own < other
        else:
            assert words == "no clear difference"
        if min(crimes[crime_type], district.get(crime_type, 0)) > 50 and own > 2.5 * other:
            assert words == "clearly higher", crime_type
    for cells in rows.values():
        assert cells[3].split(": ")[1] in ("clearly higher", "clearly lower", "no clear difference")


@pytest.mark.parametrize("url", [f"/stats/{quote(AREA, safe='')}", "/stats/Leicestershire"])
def test_the_figures_speak_plainly(client: TestClient, url: str) -> None:
    page = client.get(url)
    assert page.status_code == 200
    body = f" {text_of(main(page.text)).lower()} "
    assert not [word for word in JARGON if word in body]
    assert "likely between" in body and "a year for every 1,000 residents" in body


def test_a_force_area_lists_its_crime_types_with_nothing_to_compare(
    client: TestClient, store_sql
) -> None:
    page = client.get("/stats/Leicestershire?to=2021-12")
    assert page.status_code == 200
    rows = table_rows(page.text)
    everything = by_type(store_sql, "force = 'leicestershire'", [])
    assert {t: int(c[0].replace(",", "")) for t, c in rows.items()} == {
        t: n for t, n in everything.items() if t != ASB
    }
    assert "Rest of" not in page.text


# --- the team's name --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def named_app(
    web_store_base: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The scenario with the team's settings saved, and a postcode lookup of three rows."""
    path = tmp_path_factory.mktemp("named") / "web.duckdb"
    shutil.copyfile(web_store_base, path)
    with Store(path) as st:
        save_settings(st, AREA, 'team = "Zedwest <Neighbourhood> Team"\n', "test")
    con = duckdb.connect(str(path))  # the shape issue 19's import will store
    code = con.execute(
        "SELECT lsoa_code FROM lsoa_lookup WHERE ward_name = 'Westcotes' ORDER BY 1 LIMIT 1"
    ).fetchone()[0]
    elsewhere = con.execute(
        "SELECT lsoa_code FROM lsoa_lookup WHERE lad_name = 'Charnwood' ORDER BY 1 LIMIT 1"
    ).fetchone()[0]
    con.execute(
        "CREATE TABLE postcodes (postcode VARCHAR, lsoa_code VARCHAR, longitude DOUBLE, "
        "latitude DOUBLE)"
    )
    con.execute(
        "INSERT INTO postcodes VALUES ('LE3 0QQ', ?, -1.15, 52.62), ('LE3 0QZ', ?, -1.15, 52.62), "
        "('LE11 1ZZ', ?, -1.2, 52.77)",
        [code, code, elsewhere],
    )
    con.close()
    with attached(path) as database:
        app = create_app(path, database=database, secret=SECRET, report_limit=(100_000, 60.0))
        yield TestClient(app, raise_server_exceptions=False)
        app.state.db.close()


NAMED = "Zedwest &lt;Neighbourhood&gt; Team"
PAGES = ["/", "/priorities", "/search?q=narb", f"/stats/{quote(AREA, safe='')}", "/report"]


@pytest.mark.parametrize("url", [*PAGES, "/updates", "/events", "/stats/Nowhere"])
def test_the_header_and_title_carry_the_teams_name(named_app: TestClient, url: str) -> None:
    page = named_app.get(url)
    assert page.status_code in (200, 404)
    assert f'<a class="brand" href="/">{NAMED}</a>' in page.text
    (title,) = re.findall(r"<title>(.*?)</title>", page.text, flags=re.S)
    assert title.endswith(NAMED)
    header = page.text[page.text.index("<header") : page.text.index("</header>")]
    assert "BeatBook" not in header and "BeatBook" not in title


def test_without_settings_the_header_names_the_area_team(client: TestClient) -> None:
    page = client.get("/").text
    assert '<a class="brand" href="/">West neighbourhood team</a>' in page


# --- search -----------------------------------------------------------------------------------


def streets(db: duckdb.DuckDBPyConnection, team: TeamSQL, pattern: str) -> set[tuple[str, str]]:
    """(street, ward) of the West crimes whose street (lower case) matches the regular
    expression ``pattern``, by our own SQL: the ward of a 2021 LSOA missing from the lookup
    is its first 2011 parent's."""
    rows = db.execute(
        """
        SELECT DISTINCT substr(s.location, 12), coalesce(l.ward_name, (
            SELECT p.ward_name FROM lsoa_bridge b JOIN lsoa_lookup p ON p.lsoa_code = b.lsoa11_code
            WHERE b.lsoa21_code = s.lsoa_code AND p.ward_name IS NOT NULL
            ORDER BY b.lsoa11_code LIMIT 1))
        FROM street_crimes s LEFT JOIN lsoa_lookup l ON l.lsoa_code = s.lsoa_code
            AND l.ward_name IS NOT NULL
        WHERE s.lsoa_code IN (SELECT unnest(?::VARCHAR[])) AND s.location LIKE 'On or near %'
            AND regexp_matches(lower(substr(s.location, 12)), ?)
        """,
        [west_lsoas(team), pattern],
    ).fetchall()
    return set(rows)


def results(page: str) -> list[list[str]]:
    table = page[page.index('<table class="results">') :]
    table = table[: table.index("</table>")]
    return [
        [text_of(c) for c in re.findall(r"<td>(.*?)</td>", row, flags=re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]
    ]


@pytest.mark.parametrize("query", ["Narborough Rd", "narb", "NARBOROUGH road"])
def test_a_street_is_found_with_its_ward_and_links(
    client: TestClient, store_sql, team_sql, query: str
) -> None:
    page = client.get(f"/search?q={quote(query)}")
    assert page.status_code == 200
    expected = streets(store_sql, team_sql, r"^narborough road\b")
    assert expected and {(r[0], r[1]) for r in results(page.text)} == expected
    codes = ward_codes(store_sql)
    for _, ward in expected:
        assert f'href="/stats/{codes[ward]}"' in page.text
    assert f'href="/priorities?area={quote(AREA, safe="")}"' in page.text


def test_a_common_word_lists_at_most_twenty_and_says_how_many_more(
    client: TestClient, store_sql, team_sql
) -> None:
    found = streets(store_sql, team_sql, r"\broad")
    assert len(found) > 25
    page = client.get("/search?q=road").text
    assert len(results(page)) == 20
    assert f"And {len(found) - 20} more: type more of the name" in text_of(page)


def test_a_misspelt_street_offers_the_closest_names(client: TestClient) -> None:
    page = client.get("/search?q=Narborogh%20Road").text
    assert "No street called" in page
    assert '<a href="/search?q=Narborough%20Road">Narborough Road</a>' in page


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("", "Type a street name or a postcode"),
        ("%20%20%20", "Type a street name or a postcode"),
        ("x" * 101, "101 characters; expected a street name or postcode of at most 100"),
        ("%25", "Type a street name or a postcode"),  # no letters or digits: nothing to find
        ("%C3%A9%C3%A9", "Type a street name or a postcode"),
    ],
)
def test_an_empty_or_long_query_is_a_clear_400(client: TestClient, query: str, words: str) -> None:
    page = client.get(f"/search?q={query}")
    assert page.status_code == 400
    assert words in html.unescape(page.text)


@pytest.mark.parametrize(
    "query", ["'; DROP TABLE concerns; --", "a%b", "<b>x</b>", "Road Road Road"]
)
def test_odd_queries_find_nothing_and_never_fail(client: TestClient, query: str) -> None:
    page = client.get(f"/search?q={quote(query)}")
    assert page.status_code == 200 and "No street called" in page.text
    assert "<b>x</b>" not in page.text


def test_a_postcode_without_a_lookup_says_it_is_needed(client: TestClient) -> None:
    page = client.get("/search?q=le3%200aa")
    assert page.status_code == 200
    assert "Search by postcode needs the postcode lookup" in page.text


def test_a_postcode_is_found_through_the_lookup_when_loaded(named_app: TestClient) -> None:
    page = named_app.get("/search?q=le30qq").text  # any case, no space
    assert [r[:2] for r in results(page)] == [["Westcotes", "West"]]
    outward = named_app.get("/search?q=LE3").text  # both LE3 postcodes lie in Westcotes
    assert [r[:2] for r in results(outward)] == [["Westcotes", "West"]]
    away = text_of(named_app.get("/search?q=LE11%201ZZ").text)
    assert "LE11 1ZZ is not in the areas this site covers (West)" in away
    unknown = text_of(named_app.get("/search?q=LE3%209XX").text)
    assert "We do not know the postcode LE3 9XX" in unknown


# --- the priorities map -----------------------------------------------------------------------


def test_the_map_has_a_marker_per_current_priority(client: TestClient, team_sql) -> None:
    page = client.get("/priorities").text
    (data,) = re.findall(r'data-map="([^"]*)"', page)
    drawn = json.loads(html.unescape(data))
    _, rows = current_priorities(team_sql)
    assert sorted((m["ward"], m["place"]) for m in drawn["markers"]) == sorted(
        (ward, label) for ward, _, label in rows
    )
    for marker in drawn["markers"]:
        assert 52.5 < marker["latitude"] < 52.7 and -1.3 < marker["longitude"] < -1.0
        assert marker["why"] and "score" not in json.dumps(marker)
    assert {w["properties"]["name"] for w in drawn["wards"]} == {"Westcotes", "Fosse", "Western"}
