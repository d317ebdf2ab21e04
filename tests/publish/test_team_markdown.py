"""The team's Markdown: links only to https/mailto/tel, images only those the team uploaded,
raw HTML as text. Bad text is refused at input naming the line and what was expected; text
stored before these rules is rendered with the bad parts dropped, never as live markup.

The HTML is checked by the tests' own reading of it (the standard library's HTML parser and
the allowlist written out in ``support/hostile_text.py``), never by the sanitiser's settings.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import HealthCheck, event, given, settings
from PIL import Image as PILImage

from beatbook.errors import InputError
from beatbook.publish import team_content, team_images
from beatbook.publish.team_content import parse_sections
from beatbook.store import Store
from support.hostile_text import ATTACKS, BODIES
from support.hostile_text import assert_safe as assert_safe_html

AREA = "custom:West"
JULY = dt.date(2021, 7, 1)
UPLOADED = frozenset({"pcso-surgery.jpg", "map-of-route.png"})


def assert_safe(html: str, images: frozenset[str] = UPLOADED) -> None:
    assert_safe_html(html, {f"team-{n}" for n in images})


def sections(body: str, images: frozenset[str] = UPLOADED) -> list[team_content.Section]:
    return parse_sections(f"## News\n\nIntro line.\n{body}\n", "july.md", images)


# --- what is allowed ---------------------------------------------------------------------------


def test_allowed_links_and_uploaded_images() -> None:
    body = (
        "Read [the plan](https://www.leics.police.uk/plan?a=1&b=2), write to "
        "<westnpt@example.police.uk>, [mail us](mailto:west@example.org) or call "
        "[101](tel:101). <https://www.police.uk>\n\n![Our PCSO at the surgery](pcso-surgery.jpg)"
    )
    (section,) = sections(body)
    assert 'href="https://www.leics.police.uk/plan?a=1&amp;b=2"' in section.html
    assert 'href="mailto:west@example.org"' in section.html and 'href="tel:101"' in section.html
    assert 'href="https://www.police.uk"' in section.html
    assert '<img src="team-pcso-surgery.jpg" alt="Our PCSO at the surgery">' in section.html
    assert section.images == ("pcso-surgery.jpg",)
    assert_safe(section.html)


def test_raw_html_and_code_are_text() -> None:
    (section,) = sections("We <b>met</b> & talked: `<script>` **bold**")
    assert "We &lt;b&gt;met&lt;/b&gt; &amp; talked: <code>&lt;script&gt;</code>" in section.html
    assert "<strong>bold</strong>" in section.html


# --- what is refused, and the message ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "[click](javascript:alert(1))",
            "july.md, line 4: link to 'javascript:alert(1)' is not allowed; "
            "expected an https:, mailto: or tel: link",
        ),
        ("Fine.\n\n[x](&#106;avascript:alert(1))", "july.md, line 6: link to 'javascript:"),
        ("[x](http://example.org/)", "july.md, line 4: link to 'http://example.org/'"),
        ("[x](/desk/users)", "july.md, line 4: link to '/desk/users' is not allowed"),
        ("[x](https:nohost)", "july.md, line 4: link to 'https:nohost'"),
        ("[r][ref]\n\n[ref]: data:text/html,hi", "july.md, line 6: link to 'data:text/html,hi'"),
        (
            "![x](http://127.0.0.1:9/secret.png)",
            "july.md, line 4: image 'http://127.0.0.1:9/secret.png' is not an uploaded image; "
            "images must be uploaded first (on the desk's update page, or beatbook update "
            "--image FILE) and shown with ![description](NAME); this area's images: "
            "map-of-route.png, pcso-surgery.jpg",
        ),
        ("![x](file:///etc/passwd)", "july.md, line 4: image 'file:///etc/passwd'"),
        ("![x](other.png)", "july.md, line 4: image 'other.png' is not an uploaded image"),
    ],
    ids=[
        "javascript",
        "entity",
        "http",
        "relative",
        "no-host",
        "reference",
        "remote-image",
        "file-image",
        "not-uploaded",
    ],
)
def test_refused_with_the_line_and_what_was_expected(body: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        sections(body)
    assert str(caught.value).startswith(expected), str(caught.value)


def test_nesting_that_would_be_cut_is_refused() -> None:
    ten = "\n".join("  " * i + "- level" for i in range(10))
    (section,) = sections(ten + "\n\nAfter the list.")
    assert "After the list." in section.html and section.html.count("<ul>") == 10
    with pytest.raises(InputError) as caught:
        sections(ten + "\n" + "  " * 10 + "- eleven\n\nAfter the list.")
    assert str(caught.value) == (
        "july.md, line 14: lists or quotes nested too deeply; "
        "expected at most 10 lists or 20 quotes inside each other"
    )
    with pytest.raises(InputError, match="july.md, line 4: lists or quotes nested too deeply"):
        sections("> " * 21 + "deep")


def test_no_uploaded_images_says_so() -> None:
    with pytest.raises(InputError, match="this area's images: none yet"):
        sections("![x](pcso-surgery.jpg)", frozenset())


# --- text stored before the rules --------------------------------------------------------------


def test_text_stored_before_the_rules_is_rendered_without_live_markup(tmp_path) -> None:
    text = "## News\n\n![ok](pcso-surgery.jpg)\n\n" + "\n\n".join(ATTACKS) + "\n"
    with Store(tmp_path / "store.duckdb") as st:
        st.execute("INSERT INTO update_texts VALUES (?, ?, ?, 'old.md', now())", [AREA, JULY, text])
        (section,) = team_content.stored_sections(st, AREA, JULY)
        assert_safe(section.html, frozenset())
        assert "<img" not in section.html or 'src="' not in section.html
        assert section.images == ()  # pcso-surgery.jpg is not uploaded to this store
        team_images.save_image(st, AREA, _picture("pcso-surgery.jpg"), "test")
        (section,) = team_content.stored_sections(st, AREA, JULY)
        assert section.images == ("pcso-surgery.jpg",)
        assert 'src="team-pcso-surgery.jpg"' in section.html
        assert_safe(section.html)


# --- uploads -------------------------------------------------------------------------------------


def _picture(
    filename: str, fmt: str = "JPEG", size: tuple[int, int] = (40, 30)
) -> team_images.Image:
    out = io.BytesIO()
    PILImage.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return team_images.prepare(out.getvalue(), filename)


def test_uploads_are_re_encoded_named_and_stripped_of_metadata(tmp_path) -> None:
    exif = PILImage.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 38.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    PILImage.new("RGB", (3000, 1500), (10, 120, 10)).save(out, format="JPEG", exif=exif)
    assert b"PhoneMaker" in out.getvalue()
    image = team_images.prepare(out.getvalue(), "PCSO Surgery (1).JPEG")
    assert image.name == "pcso-surgery-1.jpg" and (image.width, image.height) == (2000, 1000)
    assert b"PhoneMaker" not in image.data and image.data[:3] == b"\xff\xd8\xff"
    with Store(tmp_path / "s.duckdb") as st:
        team_images.save_image(st, AREA, image, "insp")
        team_images.save_image(st, AREA, _picture("x.png", "PNG"), "insp")
        assert team_images.image_names(st, AREA) == {"pcso-surgery-1.jpg", "x.png"}
        assert team_images.image_names(st, "custom:Other") == frozenset()
        files = team_images.image_files(st, AREA, ["x.png", "missing.png"])
        assert list(files) == ["team-x.png"] and files["team-x.png"][:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"GIF89a" + b"\0" * 40, "not a PNG or JPEG picture that can be read"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a PNG or JPEG picture"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 30, "not a PNG or JPEG picture that can be read"),
        (b"x" * (team_images.MAX_BYTES + 1), "bytes; at most 5,000,000"),
    ],
    ids=["empty", "gif", "svg", "broken-png", "too-big"],
)
def test_bad_uploads_are_refused(data: bytes, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        team_images.prepare(data, "photo.png")
    assert str(caught.value).startswith("image 'photo.png': ") and expected in str(caught.value)


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    out = io.BytesIO()
    PILImage.new("1", (8000, 8000)).save(out, format="PNG")  # small file, 64M pixels
    assert len(out.getvalue()) < 100_000
    with pytest.raises(InputError, match="8000 x 8000 pixels; at most 40,000,000"):
        team_images.prepare(out.getvalue(), "bomb.png")


# --- property: any text is refused with a message or published safely -----------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES)
def test_any_text_is_refused_with_a_message_or_safe(body: str) -> None:
    text = f"## News\n\n{body}\n"
    try:
        parsed = parse_sections(text, "fuzz.md", UPLOADED)
    except InputError as exc:
        assert str(exc).startswith("fuzz.md"), str(exc)
        parsed = None
    event("refused" if parsed is None else "accepted")
    for section in parsed or []:
        assert_safe(section.html)
    try:  # the same text as if stored before the rules: rendered, never live
        for section in parse_sections(text, "stored", UPLOADED, strict=False):
            assert_safe(section.html)
    except InputError as exc:
        assert str(exc).startswith("stored"), str(exc)
