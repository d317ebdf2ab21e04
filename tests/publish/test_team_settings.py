"""The team settings behind the letter's links and "Your local team": the officers, their
roles, wards and contacts, an optional photo (a local file only, size-bounded, re-encoded),
the e-mail address, the online report form and the calendar. Each bad value is refused with
a message that names the file and the field; the bundled sample file loads."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from beatbook.errors import InputError
from beatbook.publish import team_content
from beatbook.publish.team_content import PHOTO_MAX_BYTES, PHOTO_SIDE, load_settings

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "update" / "team.toml"


def _png(width: int, height: int, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "team.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sample_team_loads_and_is_marked_invented() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    assert "INVENTED" in text and "invented" in text  # said at the top and beside the officers
    loaded = load_settings(SAMPLE)
    assert len(loaded.officers) == 5
    assert {o.role for o in loaded.officers} >= {"Neighbourhood inspector", "Beat officer"}
    wards = {w for o in loaded.officers for w in o.wards}
    assert wards == {"Westcotes", "Fosse", "Western"}  # the demo's three wards
    assert loaded.email == "westleicester.npt@example.org"
    assert loaded.report_url and loaded.report_url.startswith("https://")
    assert loaded.calendar_url and loaded.calendar_url.endswith(".ics")
    # every address is in a domain reserved for examples: nothing here reaches a real person
    for address in [loaded.email, *(o.email for o in loaded.officers if o.email)]:
        assert address.endswith("@example.org"), address


def test_officers_with_a_photo_read_beside_the_file(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "jo.png").write_bytes(_png(1200, 900))
    path = _write(
        tmp_path,
        '[[officers]]\nname = "PC Jo Bloggs"\nrole = "Beat officer"\nwards = ["Fosse", "Western"]\n'
        'email = "jo.bloggs@example.org"\nphone = "0116 496 0123"\nphoto = "photos/jo.png"\n'
        '[[officers]]\nname = "PCSO Ann Lee"\nrole = "PCSO"\n',
    )
    jo, ann = load_settings(path).officers
    assert (jo.name, jo.role, jo.wards) == ("PC Jo Bloggs", "Beat officer", ("Fosse", "Western"))
    assert (jo.email, jo.phone, jo.photo) == (
        "jo.bloggs@example.org",
        "0116 496 0123",
        "photos/jo.png",
    )
    assert jo.photo_data is not None
    with Image.open(io.BytesIO(jo.photo_data)) as picture:  # re-encoded small, as JPEG
        assert picture.format == "JPEG"
        assert max(picture.size) == PHOTO_SIDE and picture.size == (400, 300)
    assert (ann.wards, ann.email, ann.phone, ann.photo, ann.photo_data) == (
        (),
        None,
        None,
        None,
        None,
    )


def test_settings_kept_in_the_store_check_a_photo_but_do_not_read_it(tmp_path: Path) -> None:
    """Text typed on the desk names no folder: the server never reads a path from it."""
    text = '[[officers]]\nname = "PC Jo"\nrole = "Beat officer"\nphoto = "/etc/hosts.png"\n'
    (officer,) = team_content.parse_settings(text, "desk: admin").officers
    assert officer.photo == "/etc/hosts.png" and officer.photo_data is None
    with pytest.raises(InputError, match="desk: admin: officers 1 photo: .* is a URL"):
        team_content.parse_settings(
            text.replace("/etc/hosts.png", "https://x.org/a.png"), "desk: admin"
        )


@pytest.mark.parametrize(
    ("officer", "expected"),
    [
        ('role = "PCSO"', "officers 1 name: expected non-empty text"),
        ('name = "Jo"', "officers 1 role: expected non-empty text"),
        ('name = "Jo"\nrole = "PCSO"\nrank = "PC"', "officers 1: unknown field 'rank'"),
        ('name = "Jo"\nrole = "PCSO"\nwards = "Fosse"', "officers 1 wards: expected a list"),
        (
            'name = "Jo"\nrole = "PCSO"\nemail = "jo at example"',
            "officers 1 email: 'jo at example' is not an e-mail address",
        ),
        (
            'name = "Jo"\nrole = "PCSO"\nphone = "call me"',
            "officers 1 phone: 'call me' is not a phone number",
        ),
        (
            'name = "Jo"\nrole = "PCSO"\nphoto = "https://example.org/jo.jpg"',
            "officers 1 photo: 'https://example.org/jo.jpg' is a URL; expected a local file path",
        ),
        (
            'name = "Jo"\nrole = "PCSO"\nphoto = "//example.org/jo.jpg"',
            "officers 1 photo: '//example.org/jo.jpg' is a URL",
        ),
        (
            'name = "Jo"\nrole = "PCSO"\nphoto = "data:image/png;base64,AAAA.png"',
            "officers 1 photo: 'data:image/png;base64,AAAA.png' is a URL",
        ),
        (
            'name = "Jo"\nrole = "PCSO"\nphoto = "jo.gif"',
            "officers 1 photo: 'jo.gif': expected a .png, .jpg or .jpeg file",
        ),
        (
            'name = "Jo"\nrole = "PCSO"\nphoto = "missing.png"',
            "officers 1 photo: 'missing.png' cannot be read",
        ),
        (
            'name = "Jo"\nrole = "PCSO"\nphoto = "big.png"',
            f"officers 1 photo: 'big.png' is over {PHOTO_MAX_BYTES:,} bytes",
        ),
        (
            'name = "Jo"\nrole = "PCSO"\nphoto = "fake.png"',
            "officers 1 photo: image 'fake.png': not a PNG or JPEG picture",
        ),
    ],
    ids=[
        "no-name",
        "no-role",
        "unknown-field",
        "wards-not-a-list",
        "bad-email",
        "bad-phone",
        "https-url",
        "scheme-relative-url",
        "data-url",
        "gif",
        "missing-file",
        "too-big",
        "not-a-picture",
    ],
)
def test_officer_errors_name_the_file_and_field(
    tmp_path: Path, officer: str, expected: str
) -> None:
    (tmp_path / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * PHOTO_MAX_BYTES)
    (tmp_path / "fake.png").write_bytes(b"this is text, not a picture")
    path = _write(tmp_path, f"[[officers]]\n{officer}\n")
    with pytest.raises(InputError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: {expected}"), str(caught.value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('email = "team"', "email: 'team' is not an e-mail address"),
        (
            'report_url = "http://example.org/report"',
            "report_url: 'http://example.org/report' is not an https:// web address",
        ),
        (
            'report_url = "javascript:alert(1)"',
            "report_url: 'javascript:alert(1)' is not an https:// web address",
        ),
        (
            'calendar_url = "example.org/events.ics"',
            "calendar_url: 'example.org/events.ics' is not an https:// web address",
        ),
        ("officers = []", "officers: expected one or more [[officers]] tables"),
    ],
    ids=["email", "http-report", "javascript-report", "calendar-without-scheme", "no-officers"],
)
def test_link_errors_name_the_field(tmp_path: Path, line: str, expected: str) -> None:
    path = _write(tmp_path, line + "\n")
    with pytest.raises(InputError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: {expected}"), str(caught.value)
