"""An admin sets the team's update settings on the desk; publishing then prints them, and a
bad TOML is refused with its reason and changes nothing (checked by SQL of our own)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from web_support import AREA, csrf_of, sign_in

from support.records_backend import TeamSQL

TOML = """team = "West Team <Test>"
contact = "west.team@example.police.uk"

[[reporting]]
label = "Online"
how = "Report at example.police.uk/report"
"""


def stored(team: TeamSQL) -> list[tuple]:
    return team.execute("SELECT toml, source FROM team_settings WHERE area = ?", [AREA]).fetchall()


def test_admin_saves_settings_and_publishing_uses_them(
    client: TestClient, make_user: Any, team_sql: TeamSQL
) -> None:
    admin = make_user("admin")
    sign_in(client, admin)
    page = client.get(f"/desk/settings?area={quote(AREA)}")
    assert page.status_code == 200
    done = client.post(
        "/desk/settings", data={"csrf_token": csrf_of(page.text), "area": AREA, "toml": TOML}
    )
    assert done.status_code == 303
    assert stored(team_sql) == [(TOML, f"desk: {admin.username}")]
    shown = client.get(f"/desk/settings?area={quote(AREA)}").text
    assert "West Team &lt;Test&gt;" in shown  # escaped in the textarea

    bad = client.post(
        "/desk/settings",
        data={"csrf_token": csrf_of(shown), "area": AREA, "toml": 'team = "x"\ncolour = "blue"'},
    )
    assert bad.status_code == 303 and "kind=error" in bad.headers["location"]
    assert "colour" in client.get(bad.headers["location"]).text
    assert stored(team_sql) == [(TOML, f"desk: {admin.username}")]  # unchanged

    inspector = make_user("inspector")
    other = TestClient(client.app, follow_redirects=False)
    sign_in(other, inspector)
    page = other.get(f"/desk/updates?area={quote(AREA)}&month=2021-09")
    published = other.post(
        "/desk/updates/publish",
        data={"csrf_token": csrf_of(page.text), "area": AREA, "month": "2021-09"},
    )
    assert published.status_code == 303
    text = other.get(f"/updates/{quote(AREA, safe='')}/2021-09/update.txt").text
    assert text.startswith("WEST TEAM <TEST>")
    assert "Online: Report at example.police.uk/report" in text
    assert "Contact the team: west.team@example.police.uk" in text


def test_settings_are_for_admins_only(client: TestClient, make_user: Any) -> None:
    sign_in(client, make_user("inspector"))
    assert client.get(f"/desk/settings?area={quote(AREA)}").status_code == 403
    assert 'href="/desk/settings"' not in client.get("/desk").text
