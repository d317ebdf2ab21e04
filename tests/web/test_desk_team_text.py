"""The team's text on the desk, as an attacker and a careless user would use it: images are
uploaded (checked, re-encoded) and only those may be shown; links go to https/mailto/tel
only; bad Markdown is refused with the line and what was expected (the library's message,
as the CLI prints it) and stores nothing; random Markdown and the attack strings never give
a 500, never make the server fetch anything when the update is published, and never store
anything that breaks a page or becomes live markup.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from PIL import Image as PILImage
from web_support import AREA, csrf_of, sign_in

from support.hostile_text import ATTACKS, BODIES, Recorder, assert_safe
from support.records_backend import TeamSQL

A = quote(AREA, safe="")
PAGE = "/desk/updates"
TEXT_MONTH, PUBLISH_MONTH, FUZZ_MONTH = "2021-10", "2021-11", "2021-12"


def _jpeg(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def inspector(web_app: FastAPI, make_user) -> Iterator[TestClient]:
    """A signed-in inspector (not entered as a context manager: that would stop the app)."""
    client = TestClient(web_app, follow_redirects=False)
    client.user = make_user("inspector")  # type: ignore[attr-defined]
    sign_in(client, client.user)  # type: ignore[attr-defined]
    yield client
    client.close()


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    found = Recorder(_jpeg((7, 3))).start()
    yield found
    found.stop()


def post(
    client: TestClient, url: str, data: dict[str, str], files: dict | None = None
) -> tuple[str, str]:
    """POST a desk form with the session's token; (kind, message) of the redirect it answers."""
    if not hasattr(client, "csrf"):
        client.csrf = csrf_of(client.get(f"{PAGE}?area={A}&month={TEXT_MONTH}").text)  # type: ignore[attr-defined]
    token = client.csrf  # type: ignore[attr-defined]
    got = client.post(url, data={**data, "csrf_token": token}, files=files)
    assert got.status_code == 303, got.text[:500]
    query = parse_qs(urlsplit(got.headers["location"]).query)
    return query["kind"][0], query["msg"][0]


def save(client: TestClient, text: str, month: str = TEXT_MONTH) -> tuple[str, str]:
    return post(client, f"{PAGE}/text", {"area": AREA, "month": month, "text": text})


def stored_text(team: TeamSQL, month: str) -> str | None:
    row = team.execute(
        "SELECT markdown FROM update_texts WHERE area = ? AND month = ?",
        [AREA, dt.date.fromisoformat(f"{month}-01")],
    ).fetchone()
    return row[0] if row else None


def team_sections(page: str) -> list[str]:
    """The HTML of the team's sections of an update page, without their '## ' headings."""
    found = re.findall(r'<section class="team-text">(.*?)</section>', page, flags=re.S)
    return [re.sub(r"<h2>.*?</h2>", "", s, count=1, flags=re.S) for s in found]


# --- uploads ------------------------------------------------------------------------------------


def test_upload_show_and_publish_an_image(
    inspector: TestClient, team_sql: TeamSQL, client: TestClient
) -> None:
    def images() -> list[tuple]:
        return team_sql.execute(
            "SELECT name, width, height, uploaded_by FROM update_images WHERE area = ?", [AREA]
        ).fetchall()

    kind, message = post(
        inspector,
        f"{PAGE}/image",
        {"area": AREA, "month": TEXT_MONTH},
        {"image": ("Our PCSO (2).JPG", _jpeg(), "image/jpeg")},
    )
    assert (kind, message) == (
        "ok",
        "Image uploaded as our-pcso-2.jpg (40 x 30): show it in the text with "
        "![description](our-pcso-2.jpg)",
    )
    assert images() == [("our-pcso-2.jpg", 40, 30, inspector.user.username)]
    page = inspector.get(f"{PAGE}?area={A}&month={TEXT_MONTH}").text
    assert "<code>![description](our-pcso-2.jpg)</code>" in page
    for name, data, expected in [
        ("evil.svg", b"<svg onload='alert(1)'/>", "image 'evil.svg': not a PNG or JPEG picture"),
        ("x.png", b"", "image 'x.png': the file is empty"),
    ]:
        kind, message = post(
            inspector, f"{PAGE}/image", {"area": AREA, "month": TEXT_MONTH}, {"image": (name, data)}
        )
        assert kind == "error" and message.startswith(expected), message
    kind, message = post(inspector, f"{PAGE}/image", {"area": AREA, "month": TEXT_MONTH})
    assert (kind, message) == ("error", "choose a PNG or JPEG file to upload")
    assert len(images()) == 1

    text = (
        "## News\n\nOur PCSO at the surgery:\n\n![Our PCSO](our-pcso-2.jpg)\n\n"
        "Write to [the team](mailto:west@example.org) or see <https://www.police.uk>.\n"
    )
    assert save(inspector, text, PUBLISH_MONTH)[0] == "ok"
    preview = inspector.get(f"{PAGE}/preview?area={A}&month={PUBLISH_MONTH}").text
    assert '<img src="data:image/jpeg;base64,' in preview and "team-our-pcso-2.jpg" not in preview
    kind, message = post(inspector, f"{PAGE}/publish", {"area": AREA, "month": PUBLISH_MONTH})
    assert kind == "ok", message
    public = client.get(f"/updates/{A}/{PUBLISH_MONTH}")
    assert public.status_code == 200
    assert '<img src="team-our-pcso-2.jpg" alt="Our PCSO">' in public.text
    assert f'<base href="/updates/{A}/{PUBLISH_MONTH}/">' in public.text
    picture = client.get(f"/updates/{A}/{PUBLISH_MONTH}/team-our-pcso-2.jpg")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    stored = team_sql.execute(
        "SELECT data FROM update_images WHERE area = ? AND name = 'our-pcso-2.jpg'", [AREA]
    ).fetchone()[0]
    assert picture.content == stored


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Hello.\n[click](javascript:alert(1))",
            "line 4: link to 'javascript:alert(1)' is not allowed; "
            "expected an https:, mailto: or tel: link",
        ),
        ("[x](data:text/html;base64,PGI+)", "line 3: link to 'data:text/html;base64,PGI+'"),
        (
            "![x](http://127.0.0.1:9/internal.png)",
            "line 3: image 'http://127.0.0.1:9/internal.png' is not an uploaded image; "
            "images must be uploaded first",
        ),
        ("![x](file:///etc/passwd)", "line 3: image 'file:///etc/passwd' is not an uploaded"),
    ],
    ids=["javascript", "data", "remote-image", "local-file"],
)
def test_bad_markdown_is_refused_with_the_line_and_nothing_is_stored(
    inspector: TestClient, team_sql: TeamSQL, body: str, expected: str
) -> None:
    before = stored_text(team_sql, TEXT_MONTH)
    kind, message = save(inspector, f"## News\n\n{body}\n")
    assert kind == "error"
    assert message == f"web desk, {inspector.user.username}, {expected}" or message.startswith(
        f"web desk, {inspector.user.username}, {expected}"
    ), message
    assert stored_text(team_sql, TEXT_MONTH) == before


# --- properties: random Markdown and the attack strings ------------------------------------------


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES)
def test_any_markdown_on_the_form_gives_a_message_and_a_working_page(
    inspector: TestClient, team_sql: TeamSQL, body: str
) -> None:
    text = f"## News\n\n{body}\n"
    before = stored_text(team_sql, FUZZ_MONTH)
    kind, message = save(inspector, text, FUZZ_MONTH)  # a 500 would raise in the TestClient
    event(f"form: {kind}")
    assert "Traceback" not in message
    if kind == "error":
        assert message.startswith(f"web desk, {inspector.user.username}"), message
        assert stored_text(team_sql, FUZZ_MONTH) == before
        return
    assert stored_text(team_sql, FUZZ_MONTH) == text.replace("\r\n", "\n")
    page = inspector.get(f"{PAGE}?area={A}&month={FUZZ_MONTH}")
    assert page.status_code == 200


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES)
def test_publishing_any_markdown_fetches_nothing_and_stays_text(
    inspector: TestClient,
    recorder: Recorder,
    client: TestClient,
    team_sql: TeamSQL,
    body: str,
) -> None:
    """Accepted text is published from the form; refused text is stored as text stored before
    the rules would be (straight into the table), then published all the same."""
    aimed = body.replace("http://127.0.0.1:9", recorder.url)
    text = f"## News\n\n{aimed}\n\n## Notices\n\n" + "\n\n".join(
        a.replace("http://127.0.0.1:9", recorder.url) for a in ATTACKS
    )
    kind, _ = save(inspector, f"## News\n\n{aimed}\n", FUZZ_MONTH)
    event(f"form: {kind}")
    if kind != "ok":
        if team_sql.dialect == "postgresql":  # it cannot hold a NUL: no stored text has one
            text = text.replace("\x00", "")
        team_sql.execute(
            "INSERT INTO update_texts VALUES (?, ?, ?, 'before the rules', now()) "
            "ON CONFLICT (area, month) DO UPDATE SET markdown = excluded.markdown, "
            "source = excluded.source, saved_at = excluded.saved_at",
            [AREA, dt.date.fromisoformat(f"{FUZZ_MONTH}-01"), text],
        )
    kind, message = post(inspector, f"{PAGE}/publish", {"area": AREA, "month": FUZZ_MONTH})
    assert kind == "ok" or "section" in message, message  # stored text is only rendered
    assert recorder.requests == []
    page = client.get(f"/updates/{A}/{FUZZ_MONTH}")
    assert page.status_code == 200
    for html in team_sections(page.text):
        assert_safe(html, {"team-pcso-surgery.jpg", "team-our-pcso-2.jpg"})
