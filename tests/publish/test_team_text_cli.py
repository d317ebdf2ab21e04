"""``beatbook update --text FILE [--image FILE]`` in a real process: the same checks as the
desk (one line on stderr, exit code 2, no traceback, nothing stored, nothing fetched), and an
uploaded image shown in the update's HTML and PDF."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pypdf
import pytest
from PIL import Image as PILImage

from beatbook.store import STORE_ENV
from support.hostile_text import Recorder

WARD = "Westcotes (Leicester)"
MONTH = "2021-08"


def _jpeg(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("beatbook")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "beatbook.cli.main"]
    env = {k: v for k, v in os.environ.items() if k != STORE_ENV} | {"NO_COLOR": "1"}
    return subprocess.run([*cli, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    found = Recorder(_jpeg((7, 3), (255, 0, 255))).start()
    yield found
    found.stop()


def test_the_cli_refuses_what_the_desk_refuses_and_shows_uploaded_images(
    sample_store_path: Path, tmp_path: Path, recorder: Recorder
) -> None:
    store = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_store_path, store)
    base = ["--store", str(store), "update", "--area", WARD, "--month", MONTH]
    bad = {
        "script.md": (
            "## News\n\nFine.\n\n[x](javascript:alert(1))\n",
            "script.md, line 5: link to 'javascript:alert(1)' is not allowed; "
            "expected an https:, mailto: or tel: link",
        ),
        "remote.md": (
            f"## News\n\n![x]({recorder.url}/internal.png)\n",
            f"remote.md, line 3: image '{recorder.url}/internal.png' is not an uploaded image",
        ),
        "deep.md": (
            "## News\n\n" + "- " * 50 + "deep\n",
            "deep.md, line 3: lists or quotes nested too deeply",
        ),
    }
    for name, (text, expected) in bad.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        done = run(*base, "--text", str(tmp_path / name), "--out", str(tmp_path / "out"))
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert expected in done.stderr, done.stderr
    assert recorder.requests == [] and not (tmp_path / "out").exists()

    photo = tmp_path / "Beat Surgery.jpg"
    photo.write_bytes(_jpeg((60, 40), (20, 200, 20)))
    (tmp_path / "good.md").write_text(
        "## News\n\n![The surgery](beat-surgery.jpg)\n\nCall [101](tel:101).\n", encoding="utf-8"
    )
    done = run(
        *base,
        "--text",
        str(tmp_path / "good.md"),
        "--image",
        str(photo),
        "--out",
        str(tmp_path / "out"),
    )
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    assert (out / "team-beat-surgery.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    html = (out / "update.html").read_text(encoding="utf-8")
    assert '<img src="team-beat-surgery.jpg" alt="The surgery">' in html
    sizes = [im.image.size for p in pypdf.PdfReader(out / "update.pdf").pages for im in p.images]
    assert (60, 40) in sizes
    con = duckdb.connect(str(store), read_only=True)
    try:
        kept = con.execute("SELECT area, name FROM update_images").fetchall()
        texts = con.execute("SELECT count(*) FROM update_texts").fetchone()[0]
    finally:
        con.close()
    assert [name for _, name in kept] == ["beat-surgery.jpg"]
    assert texts == 1


def test_an_officers_photo_beside_the_settings_file_is_printed(
    sample_store_path: Path, tmp_path: Path
) -> None:
    """``update --settings team.toml`` reads a photo named relative to the settings file."""
    store = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_store_path, store)
    (tmp_path / "team" / "photos").mkdir(parents=True)
    (tmp_path / "team" / "photos" / "jo.jpg").write_bytes(_jpeg((300, 400), (200, 30, 30)))
    settings = tmp_path / "team" / "team.toml"
    settings.write_text(
        '[[officers]]\nname = "PC Jo Sample"\nrole = "Beat officer"\nphoto = "photos/jo.jpg"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    done = run(
        "--store",
        str(store),
        "update",
        "--area",
        WARD,
        "--month",
        MONTH,
        "--settings",
        str(settings),
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    with PILImage.open(out / "officer-1.jpg") as picture:
        assert picture.format == "JPEG"
        red, green, blue = picture.convert("RGB").getpixel(
            (picture.width // 2, picture.height // 2)
        )
        assert red > 150 and green < 80 and blue < 80
    assert 'src="officer-1.jpg"' in (out / "update.html").read_text(encoding="utf-8")
