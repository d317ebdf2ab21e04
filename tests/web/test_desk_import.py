"""The desk's import page (issue 20): an admin uploads police.uk files at /desk/import and they
are imported while the page waits, into the app's own store file (embedded) or into a copy
switched in whole (the team's records in PostgreSQL). Real app over a copy of the real sample
store (it ends at 2025-03: the sample's 2025-04 to 2025-09 files are new); rows checked by the
tests' own DuckDB against the gzipped files; the upload's temporary folder is looked at after
every answer. The page in a real browser at phone width is at the end."""

from __future__ import annotations

import gzip
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser
from web_support import PASSWORD, WebUser, csrf_of, sign_in, text_of

from beatbook import settings
from beatbook.store import Store
from beatbook.users import add_user
from beatbook.web import create_app
from beatbook.web.testing import serving
from beatbook.web.uploads import file_name, size_words
from support.archives import archive
from support.browser import needs_chromium, shot
from support.fixtures_store import POLICE
from support.postgres import fresh_database

PAGE = "/desk/import"
ADMIN = WebUser("import.admin", "admin", PASSWORD)
ANALYST = WebUser("import.analyst", "analyst", PASSWORD)
ROW = re.compile(
    r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>"
    r'<td class="num">([\d,]+)</td><td class="num">([\d,]+)</td><td>([^<]*)</td></tr>'
)


def street(month: str) -> Path:
    return POLICE / f"{month}-leicestershire-street.csv.gz"


def raw_rows(path: Path) -> int:
    """Rows of a police.uk file, counted by DuckDB's own CSV reader (not BeatBook's)."""
    with duckdb.connect() as con:
        query = "SELECT count(*) FROM read_csv(?, header = true)"
        return con.execute(query, [str(path)]).fetchone()[0]


def stored_rows(store: Path, month: str) -> int:
    """Street rows of ``month`` in the store file (the tests' own SQL; in this process DuckDB
    hands back the app's open database for the path)."""
    with duckdb.connect(str(store)) as con:
        return con.execute(
            "SELECT count(*) FROM street_crimes WHERE month = ?::DATE", [f"{month}-01"]
        ).fetchone()[0]


def upload(*files: tuple[str, bytes | Path]) -> list[tuple[str, tuple[str, bytes]]]:
    return [
        ("files", (name, data.read_bytes() if isinstance(data, Path) else data))
        for name, data in files
    ]


def results(page: str) -> list[tuple[str, ...]]:
    return [tuple(m) for m in ROW.findall(page)]


def refusal(answer: Any) -> str:
    """The error message a refused form brings back to the page (303, signed)."""
    assert answer.status_code == 303, answer.text[:300]
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["kind"] == ["error"]
    return query["msg"][0]


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder uploads go to, for this test (empty after every answer)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def served_store(sample_store_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "desk.duckdb"
    shutil.copyfile(sample_store_path, path)
    return path


@pytest.fixture
def app(served_store: Path) -> Iterator[FastAPI]:
    """The app over a copy of the sample store, its records embedded, with an admin and an
    analyst."""
    with Store(served_store) as st:
        for user in (ADMIN, ANALYST):
            add_user(st, user.username, user.role, user.password)
    made = create_app(served_store, secret="desk-import-tests-0123456789abcdef")
    yield made
    made.state.db.close()


def browser_of(app: FastAPI, user: WebUser | None) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    if user is not None:
        sign_in(client, user)
    return client


@pytest.fixture
def admin(app: FastAPI) -> Iterator[TestClient]:
    client = browser_of(app, ADMIN)
    yield client
    client.close()


def token(client: TestClient) -> str:
    return csrf_of(client.get(PAGE).text)


def test_an_admin_imports_two_months(admin: TestClient, served_store: Path, scratch: Path) -> None:
    page = admin.get(PAGE)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text and "latest March 2025" in page.text
    assert 'href="/desk/import" aria-current="page"' in page.text  # the admin's tab
    months = ["2025-04", "2025-05"]
    assert [stored_rows(served_store, m) for m in months] == [0, 0]
    # the figures are worked out (and kept: web/cache.py) before the import...
    assert admin.get("/api/stats/Leicester").json()["to"] == "2025-03"
    assert " to 2025-03:" in admin.get("/stats/Leicester").text
    # the second named with a folder, as an old browser may send it: kept by its base name
    sent = upload(
        (street("2025-04").name, street("2025-04")),
        ("C:\\Users\\pc\\Downloads\\" + street("2025-05").name, street("2025-05")),
    )
    done = admin.post(PAGE, data={"csrf_token": csrf_of(page.text)}, files=sent)
    assert done.status_code == 200, done.text[:500]
    assert list(scratch.iterdir()) == []  # the upload's folder is gone
    shown = results(done.text)
    assert [(r[0], r[1], r[2], r[3], r[6]) for r in shown] == [
        (street(m).name, "street", "leicestershire", m, "stored") for m in months
    ]
    for month, row in zip(months, shown, strict=True):
        rows, quarantined = int(row[4].replace(",", "")), int(row[5].replace(",", ""))
        assert rows == stored_rows(served_store, month) > 0
        assert rows + quarantined == raw_rows(street(month))  # every row of the file
    total = sum(raw_rows(street(m)) for m in months)
    assert f"{total:,} rows stored" in done.text
    assert "latest May 2025" in admin.get(PAGE).text
    stats = admin.get("/api/stats/Leicester").json()  # ... and not kept past it
    assert (stats["to"], stats["months"]) == ("2025-05", 5)
    assert " to 2025-05:" in admin.get("/stats/Leicester").text
    with duckdb.connect(str(served_store)) as con:  # recorded under the file's own name
        names = con.execute(
            "SELECT source_file FROM partitions WHERE month >= DATE '2025-04-01' ORDER BY month"
        ).fetchall()
    assert [Path(n).name for (n,) in names] == [street(m).name for m in months]
    again = admin.post(PAGE, data={"csrf_token": csrf_of(page.text)}, files=sent)
    assert [r[6] for r in results(again.text)] == ["unchanged", "unchanged"]


def test_an_archive_zip_is_imported_member_by_member(
    admin: TestClient, served_store: Path, scratch: Path, tmp_path: Path
) -> None:
    """police.uk's archive layout (a month folder of every force's three kinds), as the
    import command reads it."""
    published = archive(tmp_path / "archives", ["2025-06"], rows=300)
    sent = upload((published.path.name, published.path))
    done = admin.post(PAGE, data={"csrf_token": token(admin)}, files=sent)
    assert done.status_code == 200, done.text[:500]
    shown = results(done.text)
    assert sorted(r[0] for r in shown) == sorted(Path(n).name for n in published.members)
    assert {(r[3], r[6]) for r in shown} == {("2025-06", "stored")}
    assert stored_rows(served_store, "2025-06") == 2 * 300  # both forces' street rows
    assert list(scratch.iterdir()) == []


def test_only_an_admin_may_import(app: FastAPI, served_store: Path, scratch: Path) -> None:
    analyst, visitor = browser_of(app, ANALYST), browser_of(app, None)
    try:
        assert analyst.get(PAGE).status_code == 403
        assert 'href="/desk/import"' not in analyst.get("/desk").text
        sent = upload((street("2025-06").name, street("2025-06")))
        got = analyst.post(
            PAGE, data={"csrf_token": csrf_of(analyst.get("/desk").text)}, files=sent
        )
        assert got.status_code == 403
        away = visitor.post(PAGE, files=sent)
        assert away.status_code == 303 and away.headers["location"].startswith("/login")
        assert visitor.get(PAGE).headers["location"].startswith("/login")
    finally:
        analyst.close()
        visitor.close()
    assert stored_rows(served_store, "2025-06") == 0
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("how", ["missing", "forged", "after the files"])
def test_a_form_without_its_token_is_refused(
    admin: TestClient, served_store: Path, scratch: Path, how: str
) -> None:
    data = street("2025-06").read_bytes()
    if how == "after the files":  # the token sent after a file: the file is never written
        boundary = "x-desk-import-test"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{street("2025-06").name}"\r\nContent-Type: application/gzip\r\n\r\n'
        ).encode() + data
        body += (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{token(admin)}\r\n--{boundary}--\r\n"
        ).encode()
        got = admin.post(
            PAGE,
            content=body,
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
    else:
        fields = {"csrf_token": "0" * 64} if how == "forged" else {}
        got = admin.post(PAGE, data=fields, files=upload((street("2025-06").name, data)))
    assert got.status_code == 403 and "form has expired" in got.text
    assert stored_rows(served_store, "2025-06") == 0
    assert list(scratch.iterdir()) == []


def test_a_file_of_another_kind_is_refused_by_name(
    admin: TestClient, served_store: Path, scratch: Path
) -> None:
    sent = upload(
        (street("2025-06").name, street("2025-06")), ("../../notes.txt", b"not a police.uk file")
    )
    message = refusal(admin.post(PAGE, data={"csrf_token": token(admin)}, files=sent))
    assert message.startswith("notes.txt: not a police.uk file: expected a .csv, .csv.gz or .zip")
    assert stored_rows(served_store, "2025-06") == 0
    assert list(scratch.iterdir()) == []
    nothing = admin.post(PAGE, data={"csrf_token": token(admin)})  # no file chosen
    assert refusal(nothing) == "choose the police.uk files to import"


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(street("2025-08").read_bytes()[:50_000], id="truncated-gzip"),
        pytest.param(gzip.compress(b"name,colour\nrose,red\n"), id="not-police-uk"),
    ],
)
def test_a_corrupt_file_is_refused_naming_it_and_nothing_is_stored(
    admin: TestClient, served_store: Path, scratch: Path, bad: bytes
) -> None:
    """A good month beside a bad file: the files are all checked before any is stored."""
    before = {m: stored_rows(served_store, m) for m in ("2025-07", "2025-08")}
    sent = upload((street("2025-07").name, street("2025-07")), (street("2025-08").name, bad))
    got = admin.post(PAGE, data={"csrf_token": token(admin)}, files=sent)
    message = refusal(got)
    assert message.startswith(street("2025-08").name), message
    assert "beatbook-upload" not in message and str(scratch) not in message  # no server folder
    assert (
        {m: stored_rows(served_store, m) for m in before}
        == before
        == {
            "2025-07": 0,
            "2025-08": 0,
        }
    )
    assert list(scratch.iterdir()) == []
    assert message in text_of(admin.get(got.headers["location"]).text)  # said on the page


@pytest.mark.parametrize("how", ["declared", "streamed"])
def test_an_upload_past_the_limit_is_refused_and_nothing_kept(
    admin: TestClient,
    served_store: Path,
    scratch: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    files = [street("2025-06"), street("2025-07")]
    size = sum(f.stat().st_size for f in files)
    limit = size // 3 if how == "declared" else size - 10  # found only as the bytes arrive
    monkeypatch.setattr(settings, "UPLOAD_MAX_BYTES", limit)
    csrf = token(admin)
    if how == "declared":  # the length the browser declares is over: refused unread
        got = admin.post(
            PAGE, data={"csrf_token": csrf}, files=upload(*((f.name, f) for f in files))
        )
    else:  # sent in chunks with no declared length
        boundary = "x-desk-import-test"
        body = f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}'
        parts = [body.encode()]
        for f in files:
            head = (
                f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="{f.name}"\r\n\r\n'
            )
            parts += [head.encode(), f.read_bytes()]
        parts.append(f"\r\n--{boundary}--\r\n".encode())
        got = admin.post(
            PAGE,
            content=iter(parts),
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
    message = refusal(got)
    assert message.startswith(f"the files come to more than {size_words(limit)}")
    assert "nothing was stored" in message
    assert [stored_rows(served_store, m) for m in ("2025-06", "2025-07")] == [0, 0]
    assert list(scratch.iterdir()) == []


def test_a_month_that_would_shrink_is_refused_until_the_box_is_ticked(
    admin: TestClient, served_store: Path, scratch: Path
) -> None:
    whole = gzip.decompress(street("2025-03").read_bytes()).decode("utf-8").splitlines()
    half = "\n".join(whole[: len(whole) // 2]) + "\n"
    before = stored_rows(served_store, "2025-03")
    sent = upload(("2025-03-leicestershire-street.csv", half.encode()))
    message = refusal(admin.post(PAGE, data={"csrf_token": token(admin)}, files=sent))
    assert "would lose more than 2%" in message and "--replace" not in message
    assert "“Replace stored months even with markedly fewer rows” ticked" in message
    assert stored_rows(served_store, "2025-03") == before
    done = admin.post(PAGE, data={"csrf_token": token(admin), "replace": "yes"}, files=sent)
    [row] = results(done.text)
    assert row[6].startswith("stored, replaced")
    assert stored_rows(served_store, "2025-03") == int(row[4].replace(",", "")) < before
    assert list(scratch.iterdir()) == []


def test_with_the_records_in_postgresql_the_new_file_is_switched_in(
    served_store: Path, postgres_url: str, scratch: Path
) -> None:
    with fresh_database(postgres_url) as url:
        app = create_app(served_store, database=url)
        try:
            with app.state.db.write() as st:
                add_user(st, ADMIN.username, ADMIN.role, ADMIN.password)
            admin = browser_of(app, ADMIN)
            before = admin.get("/api/stats/Leicester").json()
            assert (before["to"], before["months"]) == ("2025-03", 3)
            months = ["2025-04", "2025-05"]
            sent = upload(*((street(m).name, street(m)) for m in months))
            done = admin.post(PAGE, data={"csrf_token": token(admin)}, files=sent)
            assert done.status_code == 200, done.text[:500]
            assert [r[6] for r in results(done.text)] == ["stored", "stored"]
            assert "The pages you open from now on show the new data" in done.text
            after = admin.get("/api/stats/Leicester").json()  # the next request: the new file
            assert (after["to"], after["months"]) == ("2025-05", 5)
            assert "latest May 2025" in admin.get(PAGE).text
            admin.close()
        finally:
            app.state.db.close()
    for month in months:  # the file in place now, read by the tests' own DuckDB
        assert stored_rows(served_store, month) == raw_rows(street(month))
    assert not list(served_store.parent.glob("desk.duckdb.next-*"))
    assert list(scratch.iterdir()) == []


def test_file_names_are_kept_as_base_names() -> None:
    assert file_name("2025-06-leicestershire-street.csv.gz") == (
        "2025-06-leicestershire-street.csv.gz"
    )
    assert file_name("../../etc/2025-06-x-outcomes.csv") == "2025-06-x-outcomes.csv"
    assert file_name("C:\\police\\latest.ZIP") == "latest.zip"
    assert file_name("2025-06-x-street.CSV.GZ") == "2025-06-x-street.csv.gz"
    for bad in ("", "..", ".csv", ".hidden.csv", "folder/", "a\x00b.csv", "x" * 300 + ".csv"):
        with pytest.raises(Exception, match="not a usable file name"):
            file_name(bad)
    for other in ("notes.txt", "data.csv.bz2", "archive.tar.gz"):
        with pytest.raises(Exception, match="not a police.uk file"):
            file_name(other)
    assert size_words(1 << 30) == "1 GiB" and size_words(300_000) == "293 KiB"


# --- in a real browser, 390 px wide ---------------------------------------------------------


@needs_chromium
def test_an_admin_picks_files_and_sees_the_results_on_a_phone(
    app: FastAPI, browser: Browser, served_store: Path
) -> None:
    problems: list[str] = []
    with serving(app) as url:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        phone = context.new_page()
        phone.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        phone.on("pageerror", lambda e: problems.append(str(e)))
        try:
            # straight to the page: the dashboard would start its map's layers (seconds)
            phone.goto(f"{url}/login?next={PAGE}")
            phone.get_by_label("Username").fill(ADMIN.username)
            phone.get_by_label("Password").fill(ADMIN.password)
            phone.get_by_role("button", name="Sign in").click()
            phone.wait_for_url(re.compile(PAGE))
            assert phone.get_by_role("link", name="Import").get_attribute("aria-current") == "page"
            files = [str(street("2025-06")), str(street("2025-07"))]
            # over the limit: refused in the page before anything is sent
            phone.evaluate("document.getElementById('import-form').dataset.maxBytes = '1000'")
            phone.get_by_label("police.uk files").set_input_files(files)
            phone.get_by_role("button", name="Import", exact=True).click()
            assert "more than" in phone.get_by_role("alert").inner_text()
            assert phone.url.endswith(PAGE)
            phone.reload()
            phone.get_by_label("police.uk files").set_input_files(files)
            phone.get_by_role("button", name="Import", exact=True).click()
            phone.wait_for_selector("table.imported")
            table = phone.locator("table.imported tbody tr")
            assert table.count() == 2
            assert "2025-06-leicestershire-street.csv.gz" in table.nth(0).inner_text()
            assert "stored" in table.nth(1).inner_text()
            phone.evaluate("document.fonts.ready")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            shot(phone, "desk-import-phone")
        finally:
            context.close()  # before the server stops: it would wait for the open connections
    assert stored_rows(served_store, "2025-06") == raw_rows(street("2025-06"))
    assert not problems, problems
