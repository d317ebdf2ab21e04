"""With the team's records in PostgreSQL, a database that cannot be reached (down, restarting)
gives 503 with Retry-After and a plain page, never a 500 (issue 20)."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import psycopg
from fastapi.testclient import TestClient

from beatbook import settings
from beatbook.web import create_app
from support.postgres import fresh_database


def test_pages_answer_503_while_the_records_cannot_be_reached(
    sample_store_path: Path, tmp_path: Path, postgres_url: str
) -> None:
    store = tmp_path / "served.duckdb"
    shutil.copyfile(sample_store_path, store)
    with fresh_database(postgres_url) as url:
        app = create_app(store, database=url)
        try:
            client = TestClient(app, raise_server_exceptions=False)
            assert client.get("/").status_code == 200
            name = urlparse(url).path.lstrip("/")
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                admin.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false")
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    [name],
                )
            page = client.get("/")
            assert page.status_code == 503
            assert page.headers["retry-after"] == str(settings.RECORDS_RETRY_AFTER_SECONDS)
            assert "Try again in a minute" in page.text
            api = client.get("/api/priorities")
            assert api.status_code == 503 and "cannot reach" in api.json()["error"]
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                admin.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true")
            assert client.get("/").status_code == 200  # back without a restart
        finally:
            app.state.db.close()
