"""The read-only JSON API on the real scenario store: each endpoint's JSON against the
tests' own SQL (and scipy for the interval); no contact or resident's free text in any
response; /openapi.json documents every /api path.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from scipy import stats
from web_support import (
    AREA,
    AREA_NAME,
    current_priorities,
    demo_contacts,
    ward_codes,
    west_figures,
    window,
)

from beatbook.web import create_app
from support.problem_words import PROBLEM_WORDS
from support.quasi import change_p
from support.records_backend import attached

WEST = quote(AREA, safe="")
API_PATHS = ["/api/areas", "/api/priorities", "/api/updates", "/api/events", "/api/stats/{area}"]


def get_json(client: TestClient, url: str, status: int = 200) -> Any:
    got = client.get(url)
    assert got.status_code == status, got.text
    assert got.headers["content-type"] == "application/json"
    return got.json()


def test_areas_are_the_team_area_with_its_wards_updates_and_priorities(
    client: TestClient, store_sql, team_sql
) -> None:
    areas = get_json(client, "/api/areas")
    custom = {n for (n,) in team_sql.execute("SELECT name FROM custom_areas").fetchall()}
    published = {
        a for (a,) in team_sql.execute("SELECT DISTINCT area FROM published_updates").fetchall()
    }
    with_priorities = {
        a
        for (a,) in team_sql.execute(
            "SELECT DISTINCT p.area FROM priorities p JOIN priority_events e USING (priority_id) "
            "WHERE e.action IN ('adopted', 'continued')"
        ).fetchall()
    }
    assert {a["reference"] for a in areas} == {
        f"custom:{n}" for n in custom
    } | published | with_priorities
    (west,) = [a for a in areas if a["reference"] == AREA]
    assert (west["name"], west["kind"]) == (AREA_NAME, "custom")
    assert {w["name"]: w["reference"] for w in west["wards"]} == ward_codes(store_sql)
    assert all(w["stats_url"] == f"/stats/{w['reference']}" for w in west["wards"])
    months = [
        f"{m:%Y-%m}"
        for (m,) in team_sql.execute(
            "SELECT month FROM published_updates WHERE area = ? ORDER BY month DESC", [AREA]
        ).fetchall()
    ]
    assert [u["month"] for u in west["updates"]] == months
    assert west["updates"][0]["pdf_url"] == f"/updates/{WEST}/{months[0]}/update.pdf"
    month, rows = current_priorities(team_sql)
    assert (west["priorities_month"], west["priorities_count"]) == (month, len(rows))
    assert west["priorities_url"] == f"/priorities?area={WEST}"
    assert west["stats_url"] == f"/stats/{WEST}"


def test_priorities_are_those_adopted_or_continued_for_the_latest_month(
    client: TestClient, team_sql
) -> None:
    blocks = get_json(client, "/api/priorities")
    month, rows = current_priorities(team_sql)
    (west,) = [b for b in blocks if b["area"] == AREA]
    assert (west["area_name"], west["month"], west["count"]) == (AREA_NAME, month, len(rows))
    got = [p for w in west["wards"] for p in w["priorities"]]
    assert {(p["ward"], p["problem"], p["place"]) for p in got} == rows
    assert all(p["problem_label"] == PROBLEM_WORDS[p["problem"]] for p in got)
    assert [p["number"] for p in got] == list(range(1, len(got) + 1))
    assert all(w["ward"] == p["ward"] for w in west["wards"] for p in w["priorities"])
    ids = {p["id"] for p in got}
    since = {
        pid: f"{first:%Y-%m}"
        for pid, first in team_sql.execute(
            "SELECT priority_id, min(month) FROM priority_events WHERE action = 'adopted' "
            "GROUP BY 1"
        ).fetchall()
        if pid in ids
    }
    assert {p["id"]: p["since"] for p in got} == since
    assert {p["id"]: p["continuing"] for p in got} == {i: s < month for i, s in since.items()}
    assert get_json(client, f"/api/priorities?area={WEST}") == [west]


def test_priorities_carry_no_score(client: TestClient, team_sql) -> None:
    text = client.get("/api/priorities").text
    assert "score" not in text and "parts" not in text
    for (score,) in team_sql.execute(
        "SELECT score FROM priorities WHERE score IS NOT NULL"
    ).fetchall():
        assert json.dumps(score) not in text


def test_updates_are_the_published_ones_newest_first(client: TestClient, team_sql) -> None:
    updates = get_json(client, "/api/updates")
    rows = [
        (area, name, f"{month:%Y-%m}", title, f"{at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}")
        for area, name, month, title, at in team_sql.execute(
            "SELECT area, area_name, month, title, published_at "
            "FROM published_updates ORDER BY month DESC, area_name"
        ).fetchall()
    ]
    assert [
        (u["area"], u["area_name"], u["month"], u["title"], u["published_at"]) for u in updates
    ] == rows
    for u in updates:
        assert u["url"] == f"/updates/{quote(u['area'], safe='')}/{u['month']}"
        assert u["pdf_url"] == u["url"] + "/update.pdf"
        assert client.get(u["pdf_url"]).content.startswith(b"%PDF-")
        assert "published_by" not in u


def test_events_are_the_engagements_of_the_window(client: TestClient, store_sql, team_sql) -> None:
    got = get_json(client, "/api/events?from=2021-07-01&weeks=6")
    assert (got["from"], got["to"], got["area"]) == ("2021-07-01", "2021-08-11", None)
    expected = window(team_sql, "2021-07-01", 42)
    assert [e["uid"] for e in got["events"]] == [u for u, _, _ in expected]
    rows = {
        uid: (f"{starts:%Y-%m-%dT%H:%M}", f"{ends:%Y-%m-%dT%H:%M}", *rest)
        for uid, starts, ends, *rest in team_sql.execute(
            "SELECT uid, starts, ends, kind, place, area, area_name, notes FROM engagements"
        ).fetchall()
    }
    for e in got["events"]:
        assert (
            e["start"],
            e["end"],
            e["kind"],
            e["place"],
            e["area_reference"],
            e["area"],
            e["notes"],
        ) == rows[e["uid"]]
        assert "source" not in e
    one = get_json(client, f"/api/events?from=2021-07-01&weeks=6&area={WEST}")
    inside = window(team_sql, "2021-07-01", 42, [*ward_codes(store_sql).values(), AREA])
    assert [e["uid"] for e in one["events"]] == [u for u, _, _ in inside]


def test_stats_match_the_store(client: TestClient, store_sql, team_sql) -> None:
    got = get_json(client, f"/api/stats/{WEST}?to=2021-12")
    fig = west_figures(store_sql, team_sql, "2021-01-01", "2021-12-01")
    count, population = fig["count"], fig["population"]
    assert (got["area"], got["from"], got["to"], got["months"]) == (
        AREA_NAME,
        "2021-01",
        "2021-12",
        12,
    )
    assert (got["count"], got["population"], got["population_year"]) == (count, population, 2022)
    assert got["rate_per_1000"] == pytest.approx(count / population * 1000, rel=1e-12)
    low = stats.chi2.ppf(0.025, 2 * count) / 2 / population * 1000
    high = stats.chi2.ppf(0.975, 2 * count + 2) / 2 / population * 1000
    assert (got["ci_low"], got["ci_high"]) == (
        pytest.approx(low, rel=1e-9),
        pytest.approx(high, rel=1e-9),
    )
    assert (got["measure"], got["unit"]) == ("crime", "crimes")
    assert got["months_used"] == [f"2021-{m:02d}" for m in range(1, 13)]
    assert got["forces"] == ["leicestershire"] and got["repeats_folded"] == 0
    # Anti-social behaviour apart, from the same months.
    asb = west_figures(store_sql, team_sql, "2021-01-01", "2021-12-01", asb=True)
    assert (got["asb"]["unit"], got["asb"]["count"]) == ("ASB incidents", asb["count"])
    assert got["asb"]["rate_per_1000"] == pytest.approx(asb["count"] / population * 1000)
    # Each against the same months of 2020, on the monthly counts (support.quasi).
    for figures, part in ((fig, got), (asb, got["asb"])):
        before = west_figures(
            store_sql, team_sql, "2020-01-01", "2020-12-01", asb=part is got["asb"]
        )
        p = change_p(
            {f"{m:%Y-%m}": n for m, n in before["months"]},
            {f"{m:%Y-%m}": n for m, n in figures["months"]},
        )
        change = part["change"]
        assert (change["count_before"], change["count_after"]) == (
            before["count"],
            figures["count"],
        )
        assert change["p_value"] == pytest.approx(p, rel=1e-9)
        assert change["significant"] == (p < 0.05)
        assert part["change_text"].endswith("against the same months a year before")


def test_errors_are_json(client: TestClient) -> None:
    assert get_json(client, "/api/stats/Nowhere%20At%20All", 404) == {
        "error": "no area called 'Nowhere At All' (see /api/areas)"
    }
    assert "error" in get_json(client, f"/api/stats/{WEST}?to=2021-13", 400)
    assert "YYYY-MM-DD" in get_json(client, "/api/events?from=tomorrow", 400)["error"]
    assert get_json(client, "/api/priorities?area=Nowhere", 404)["error"].startswith(
        "no area called"
    )


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


def test_no_contact_or_free_text_of_a_concern_in_any_response(client: TestClient, team_sql) -> None:
    contacts = [c for (c,) in team_sql.execute("SELECT contact FROM concern_contacts").fetchall()]
    assert set(demo_contacts()) <= set(contacts) and contacts
    free_text = [
        t
        for (t,) in team_sql.execute(
            "SELECT problem_text FROM concerns WHERE length(problem_text) > 20 UNION "
            "SELECT where_text FROM concerns WHERE length(where_text) > 20"
        ).fetchall()
    ]
    assert free_text
    for url in [
        "/api/areas",
        "/api/priorities",
        "/api/updates",
        "/api/events?from=2021-07-01&weeks=26",
        f"/api/stats/{WEST}",
        f"/api/stats/{WEST}?to=2021-12",
    ]:
        text = client.get(url).text.lower()
        for secret in contacts + free_text:
            assert secret.lower() not in text, (url, secret)
        body = json.loads(text)
        assert not keys_of(body) & {
            "contact",
            "where_text",
            "problem_text",
            "given_latitude",
            "source",
        }


def test_openapi_documents_every_api_path(client: TestClient) -> None:
    spec = get_json(client, "/openapi.json")
    paths = spec["paths"]
    for path in API_PATHS:
        assert "get" in paths[path], path
        assert set(paths[path]) == {"get"}  # read-only
    assert client.get("/docs").status_code == 200
    areas_schema = paths["/api/areas"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert areas_schema["items"]["$ref"].endswith("/Area")
    stats = spec["components"]["schemas"]["Stats"]["properties"]
    assert {
        "from",
        "to",
        "count",
        "rate_per_1000",
        "ci_low",
        "ci_high",
        "population_year",
        "measure",
        "unit",
        "months_used",
        "months_missing_by_force",
        "repeats_folded",
        "change_text",
        "asb",
    } <= set(stats)


def test_a_fresh_store_answers_empty_lists(tmp_path, sample_store_path) -> None:
    """Before any team area, priority or update: empty answers, not errors."""
    path = tmp_path / "fresh.duckdb"
    shutil.copyfile(sample_store_path, path)
    with attached(path) as database:
        app = create_app(path, database=database, secret="x" * 32)
        try:
            fresh = TestClient(app)
            assert get_json(fresh, "/api/areas") == []
            assert get_json(fresh, "/api/priorities") == []
            assert get_json(fresh, "/api/updates") == []
            assert get_json(fresh, f"/api/events?from={dt.date(2021, 7, 1)}")["events"] == []
            for url in ["/", "/priorities", "/updates", "/events", "/report"]:
                assert fresh.get(url).status_code == 200, url
        finally:
            app.state.db.close()
