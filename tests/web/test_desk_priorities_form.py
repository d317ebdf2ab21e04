"""The desk's priorities page on a real uvicorn server: the team's own priority (by street or
map point, bad input refused with the command line's message), cards numbered by rank within
their ward with the id apart, running priorities as "continuing since", and a second adoption
of a running place and problem refused on the page.

The command line runs on an identical copy of the same store, through its real entry point.
"""

from __future__ import annotations

import html
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_support import INSPECTOR, PASSWORD, Live, live, make_store, post_form, sign_in
from web_support import AREA

from beatbook.cli.main import main
from beatbook.priorities import lifecycle, team
from beatbook.records.engine import DATABASE_ENV
from beatbook.store import STORE_ENV
from support.browser import ARGS, CHROMIUM, needs_chromium
from support.records_backend import attached, cli_env, open_store

PAGE = f"/desk/priorities?area={AREA.replace(':', '%3A')}&month=2021-07"


@pytest.fixture(scope="module")
def stores(
    web_store_base: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path]]:
    """Two identical copies of the scenario store with the test users: the desk's, the CLI's
    (each with its team records where ``--records-backend`` keeps them)."""
    folder = tmp_path_factory.mktemp("desk-form")
    desk, cli = folder / "desk.duckdb", folder / "cli.duckdb"
    shutil.copyfile(web_store_base, desk)
    make_store(desk)
    shutil.copyfile(desk, cli)
    with attached(desk), attached(cli):
        yield desk, cli


@pytest.fixture(scope="module")
def before(stores: tuple[Path, Path]) -> list[dict]:
    """The July 2021 priorities as stored before the server starts."""
    with open_store(stores[0], read_only=True) as st:
        return [
            p
            for p in lifecycle.list_priorities(st, area=AREA)
            if f"{p['proposed_for']:%Y-%m}" == "2021-07"
        ]


@pytest.fixture(scope="module")
def server(stores: tuple[Path, Path], before: list[dict]) -> Iterator[Live]:
    with live(stores[0]) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server: Live) -> Iterator[httpx.Client]:
    with server.browser() as b:
        assert sign_in(b, INSPECTOR).status_code == 303
        yield b


def flash_after(browser: httpx.Client, answer: httpx.Response) -> tuple[str, str]:
    """(kind, text) of the message on the page a desk form redirected to."""
    assert answer.status_code == 303, answer.text[:300]
    page = browser.get(answer.headers["location"]).text
    found = re.search(r'<p class="flash (ok|error)"[^>]*>(.*?)</p>', page, re.S)
    assert found, "no message on the page"
    return found[1], html.unescape(found[2]).strip()


def add(browser: httpx.Client, **fields: str) -> httpx.Response:
    data = {"area": AREA, "month": "2021-07", "origin": "team", **fields}
    return post_form(browser, PAGE, "/desk/priorities/add", **data)


def card(page: str, pid: int) -> str:
    found = re.search(rf'<article class="card" id="priority-{pid}">(.*?)</article>', page, re.S)
    assert found, f"no card for priority {pid}"
    return found[1]


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def cli_error(store: Path, monkeypatch: pytest.MonkeyPatch, capsys, *args: str) -> str:
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    for name, value in cli_env(store).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        sys, "argv", ["beatbook", "priorities", "add", *args, "--store", str(store)]
    )
    with pytest.raises(SystemExit) as done:
        main()
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.startswith("error: "), err
    return " ".join(err.removeprefix("error: ").split())


def test_add_by_street_name_and_by_map_point(browser: httpx.Client) -> None:
    kind, said = flash_after(
        browser,
        add(
            browser,
            street="Westcotes Dr",
            problem="street-life",
            words="ASB and street life around the hostel",
            reason="Raised at the residents' meeting",
        ),
    )
    assert kind == "ok" and re.fullmatch(
        r"Priority (\d+) added: Westcotes Drive \(Westcotes\)\.", said
    )
    pid = int(said.split()[1])
    shown = text(card(browser.get(PAGE).text, pid))
    assert "Westcotes Drive: ASB and street life around the hostel" in shown
    assert "raised by the team" in shown and "Raised at the residents' meeting" in shown
    assert f"in Westcotes · id {pid}" in shown
    # a point on the map about 20 m from Tudor Road, as latitude and longitude
    kind, said = flash_after(
        browser,
        add(browser, lat="52.63626", lon="-1.15330", problem="drug-dens", origin="residents"),
    )
    assert kind == "ok", said
    second = int(said.split()[1])
    shown = text(card(browser.get(PAGE).text, second))
    assert ": drug dens and cuckooing" in shown and "raised by residents" in shown


@pytest.mark.parametrize(
    ("fields", "args"),
    [
        (
            {"street": "Nowhere Lane", "problem": "drugs"},
            ["--street", "Nowhere Lane", "--problem", "drugs"],
        ),
        (
            {"lat": "52.7", "lon": "-1.0", "problem": "drugs"},
            ["--lat", "52.7", "--lon", "-1.0", "--problem", "drugs"],
        ),
        ({"street": "Tudor Road", "problem": ""}, ["--street", "Tudor Road", "--problem", ""]),
        (
            {"street": "Tudor Road", "problem": "drugs", "reason": "x" * 501},
            ["--street", "Tudor Road", "--problem", "drugs", "--reason", "x" * 501],
        ),
    ],
    ids=["unknown street", "point outside", "empty problem", "overlong reason"],
)
def test_bad_input_is_refused_with_the_command_lines_message(
    browser: httpx.Client, stores, monkeypatch, capsys, fields: dict, args: list[str]
) -> None:
    kind, said = flash_after(browser, add(browser, **fields))
    expected = cli_error(stores[1], monkeypatch, capsys, "--area", AREA, "--by", "x", *args)
    assert kind == "error" and said == expected
    assert re.match(r"^(street|map point|problem|reason)\b", said)


def test_cards_are_numbered_by_rank_within_the_ward_with_the_id_apart(
    browser: httpx.Client, before: list[dict]
) -> None:
    page = browser.get(PAGE).text
    for ward in {p["ward"] for p in before}:
        mine = [p for p in before if p["ward"] == ward and p["score"] is not None]
        mine.sort(key=lambda p: (-p["score"], p["priority_id"]))
        for rank, p in enumerate(mine, 1):
            assert text(card(page, p["priority_id"])).startswith(
                f"#{rank} in {ward} · id {p['priority_id']}"
            )
    running = [m for m in re.findall(r'id="priority-(\d+)"', page)]
    continued = [int(pid) for pid in running if "Continuing since" in text(card(page, int(pid)))]
    assert continued, "no running priority shown as continuing"
    for pid in continued:
        shown = card(page, pid)
        assert "/adopt" not in shown
        assert re.search(r"Continuing since 2021-0[67] · id", text(shown))
    for word in ("sepp", "idempotent", "custom:"):
        assert word not in text(page), word
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", page)


def test_adopting_a_second_priority_for_a_running_place_is_refused_on_the_page(
    browser: httpx.Client, before: list[dict]
) -> None:
    first = next(
        p
        for p in before
        if p["status"] == "proposed" and p["place_key"].count("|") == 1 and p["score"]
    )
    kind, said = flash_after(
        browser,
        add(browser, street=first["place"], ward=first["ward"], problem=first["problem"]),
    )
    assert kind == "ok", said
    team_pid = int(said.split()[1])
    data = {"area": AREA, "month": "2021-07"}
    answer = post_form(browser, PAGE, f"/desk/priorities/{team_pid}/adopt", **data)
    assert flash_after(browser, answer)[0] == "ok"
    answer = post_form(browser, PAGE, f"/desk/priorities/{first['priority_id']}/adopt", **data)
    kind, said = flash_after(browser, answer)
    assert kind == "error"
    assert said.startswith(f"{first['label']}: ") and f"already a priority (id {team_pid}" in said
    shown = card(browser.get(PAGE).text, first["priority_id"])
    assert "/adopt" not in shown and f"(id {team_pid})" in text(shown)


@needs_chromium
def test_a_click_on_the_map_fills_the_point_in_chromium(server: Live, stores) -> None:
    from playwright.sync_api import sync_playwright

    with open_store(stores[1], read_only=True) as st:
        (target,) = team.places_by_street(st, AREA, "Westcotes Drive")
    problems: list[str] = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        tab = chromium.new_context(viewport={"width": 1200, "height": 900}).new_page()
        tab.on("pageerror", lambda e: problems.append(str(e)))
        tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        tab.goto(server.url + "/login")
        tab.fill("input[name=username]", INSPECTOR)
        tab.fill("input[name=password]", PASSWORD)
        tab.click("form[action='/login'] button[type=submit]")
        tab.goto(server.url + PAGE)
        tab.wait_for_selector("#add-map[data-ready='1']", timeout=30_000)
        box = tab.locator("#add-map").bounding_box()
        assert box

        def click(x: float, y: float) -> tuple[float, float]:
            tab.locator("#add-map").click(position={"x": x, "y": y})
            return (
                float(tab.input_value("#add-priority input[name=lat]")),
                float(tab.input_value("#add-priority input[name=lon]")),
            )

        # Two clicks give the map's scale; the third lands on a Westcotes Drive point.
        cx, cy = box["width"] / 2, box["height"] / 2
        lat0, lon0 = click(cx, cy)
        lat1, lon1 = click(cx + 100, cy + 100)
        assert lat1 < lat0 and lon1 > lon0  # down is south, right is east
        point = target.snap_points[0]
        lat, lon = click(
            cx + (point["longitude"] - lon0) / ((lon1 - lon0) / 100),
            cy + (point["latitude"] - lat0) / ((lat1 - lat0) / 100),
        )
        assert abs(lat - point["latitude"]) < 0.0004 and abs(lon - point["longitude"]) < 0.0006
        tab.select_option("#add-priority select[name=problem]", "knife-gang")
        tab.click("#add-priority button[type=submit]")
        shown = " ".join(tab.inner_text("p.flash").split())
        chromium.close()
    assert not problems, problems
    with open_store(stores[1], read_only=True) as st:
        place = team.find_place(st, AREA, longitude=lon, latitude=lat)
    assert place.place_key == target.place_key
    expected = "Priority \\d+ added: Westcotes Drive \\(Westcotes\\)\\."
    assert re.fullmatch(expected, shown), shown
