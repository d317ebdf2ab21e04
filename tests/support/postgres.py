"""A throwaway PostgreSQL cluster for the tests: Debian's server, started as its own user.

``start(folder)`` makes a new cluster in ``folder/data`` with ``initdb``, starts it with
``pg_ctl`` listening only on a Unix socket in ``folder`` (no TCP port, so two runs never
fight over one), creates the database ``beatbook`` and returns its URL, for example
``postgresql://beatbook-test@/beatbook?host=/tmp/beatbook-pg-x1y2``. psycopg 3 takes it as
it is; SQLAlchemy 2 takes it with the driver named (``postgresql+psycopg://…``).
``stop(folder)`` stops the server (fast shutdown) and removes nothing. ``restart(folder)``
starts again a server that was killed (``kill -9``), with its data.

PostgreSQL refuses to run as root, and the tests run as root in CI. Run as root, the server
runs as the unprivileged system user ``beatbook-test`` (created when missing, with no home
and no login shell) and ``folder`` is handed to that user; run as anyone else, it runs as
that user. Authentication is ``trust`` on the socket alone, whose folder only the server's
user (and root) can enter.

A cluster left by a killed run never blocks the next: ``start`` on a folder that holds one
stops it (immediate shutdown) and makes a new one. The ``postgres_url`` fixture starts one
cluster per test session in a new folder under the temporary directory, and first removes
the folders of sessions whose pytest process has gone.

The cluster favours speed over surviving a power cut: ``fsync`` is off (a killed server
loses nothing committed; a crashed machine might). Locale ``C`` with UTF-8 text: strings sort
by code point, as DuckDB sorts them.

By hand (``tests/support`` is not needed on the path)::

    .venv/bin/python tests/support/postgres.py start /tmp/pg    # prints the URL
    .venv/bin/python tests/support/postgres.py stop /tmp/pg
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlparse, urlunparse

import pytest

SERVER_USER = "beatbook-test"  # the server's user when the tests run as root
DATABASE = "beatbook"
PORT = 5432  # only names the socket file (.s.PGSQL.5432): the server opens no TCP port
PREFIX = "beatbook-pg-"  # the fixture's folders under the temporary directory
SOCKET_PATH_MAX = 107  # sun_path holds 108 bytes with the closing NUL
SYSTEM_PACKAGES = Path(__file__).resolve().parents[2] / "scripts" / "system-packages"
SETTINGS = {
    "listen_addresses": "''",
    "port": str(PORT),
    "fsync": "off",
    "full_page_writes": "off",
    "log_min_messages": "warning",
}


class PostgresError(RuntimeError):
    """The cluster could not be made, started or stopped (the message says why)."""


def bindir() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl``: Debian's newest, else the ones on PATH."""
    found = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
    if found:
        newest = max(found, key=lambda p: int(re.findall(r"/(\d+)/bin/", p)[0]))
        return Path(newest).parent
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    return None


def server_user() -> pwd.struct_passwd:
    """Who runs the server: the current user, or ``beatbook-test`` (made if missing) for root."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        pass
    made = subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent"]
        + ["--shell", "/usr/sbin/nologin", "--comment", "BeatBook test PostgreSQL", SERVER_USER],
        capture_output=True,
        text=True,
    )
    try:  # another run may have made it at the same moment
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresError(f"could not create user {SERVER_USER}: {made.stderr.strip()}") from None


def _run(args: list[str], folder: Path, user: pwd.struct_passwd) -> str:
    """Run a PostgreSQL program as ``user`` in ``folder``; its output, or PostgresError."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env |= {"HOME": str(folder), "LC_ALL": "C", "LANG": "C", "USER": user.pw_name}
    other = os.geteuid() != user.pw_uid  # root: drop to the server's user and group alone
    done = subprocess.run(
        args,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        user=user.pw_uid if other else None,
        group=user.pw_gid if other else None,
        extra_groups=[] if other else None,
    )
    if done.returncode != 0:
        raise PostgresError(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def url(folder: Path, user: str | None = None) -> str:
    """The libpq URL of the ``beatbook`` database of the cluster in ``folder``."""
    name = quote(user or server_user().pw_name, safe="")
    return f"postgresql://{name}@/{DATABASE}?host={quote(str(folder), safe='/')}"


def server_pid(folder: Path) -> int | None:
    """The process id of the server running on ``folder/data``, or None.

    Read from ``postmaster.pid`` and /proc rather than asked of ``pg_ctl status``, which takes
    a killed server that is not yet reaped (a zombie) for a live one, and checked to be a
    ``postgres`` process, not another program that has since been given the same id.
    """
    return _live_pid(Path(folder) / "data" / "postmaster.pid")


def _live_pid(lock: Path) -> int | None:
    """The live ``postgres`` process whose id opens the lock file ``lock``, or None."""
    try:
        pid = int(lock.read_text().split()[0])
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError, IndexError):
        return None
    name, rest = stat.split("(", 1)[1].rsplit(")", 1)
    alive = rest.split()[0] not in ("Z", "X")
    return pid if alive and name == "postgres" else None  # not a pid reused by another program


def is_running(folder: Path) -> bool:
    """Whether a server runs on ``folder/data``."""
    return server_pid(folder) is not None


def start(folder: Path) -> str:
    """Make a new cluster in ``folder`` (ending any left there), start it and return its URL."""
    folder = Path(folder).resolve()
    bin_ = bindir()
    if bin_ is None:
        raise PostgresError(
            "PostgreSQL is not installed (no initdb/pg_ctl): run scripts/system-packages"
        )
    if len(str(folder / f".s.PGSQL.{PORT}")) > SOCKET_PATH_MAX:
        raise PostgresError(f"{folder} is too long a path for a Unix socket: use a shorter folder")
    user = server_user()
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(folder, user.pw_uid, user.pw_gid)
    folder.chmod(0o700)
    data = folder / "data"
    if (data / "PG_VERSION").exists():  # left by a killed run: end it and start afresh
        stop(folder, mode="immediate")
        shutil.rmtree(data)
    elif data.exists():
        raise PostgresError(f"{data} exists and is not a PostgreSQL cluster: not touching it")
    for lock in folder.glob(".s.PGSQL.*.lock"):  # a killed server's zombie id fools postgres
        if _live_pid(lock) is not None:
            raise PostgresError(f"a server not started on {data} listens on {folder}")
        lock.unlink()
        Path(str(lock).removesuffix(".lock")).unlink(missing_ok=True)
    (folder / "server.log").unlink(missing_ok=True)
    try:
        _run(["test", "-w", str(folder)], folder, user)
    except (PostgresError, OSError) as exc:
        raise PostgresError(
            f"user {user.pw_name} cannot write {folder}: a folder above it is closed to it"
        ) from exc
    _run(
        [str(bin_ / "initdb"), "-D", str(data), "-U", user.pw_name, "-A", "trust"]
        + ["-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
        folder,
        user,
    )
    conf = "".join(f"{k} = {v}\n" for k, v in SETTINGS.items())
    conf += f"unix_socket_directories = '{folder}'\n"
    with (data / "postgresql.conf").open("a", encoding="utf-8") as out:
        out.write("\n# beatbook tests (tests/support/postgres.py)\n" + conf)
    log = folder / "server.log"
    try:
        _run(
            [str(bin_ / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"],
            folder,
            user,
        )
    except PostgresError as exc:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
        raise PostgresError(f"{exc}\nserver.log:\n{tail}") from None
    _run(
        [str(bin_ / "createdb"), "-h", str(folder), "-p", str(PORT), "-U", user.pw_name, DATABASE],
        folder,
        user,
    )
    return url(folder, user.pw_name)


def stop(folder: Path, mode: str = "fast") -> None:
    """Stop the server on ``folder/data`` if one runs (``fast``: roll back and close sessions)."""
    folder = Path(folder).resolve()
    bin_ = bindir()
    if bin_ is None or not is_running(folder):
        return
    try:
        _run(
            [
                str(bin_ / "pg_ctl"),
                "-D",
                str(folder / "data"),
                "-m",
                mode,
                "-w",
                "-t",
                "60",
                "stop",
            ],
            folder,
            server_user(),
        )
    except PostgresError:
        if is_running(folder):  # a server killed meanwhile leaves its pid file: pg_ctl waits on
            raise  # it in vain, though the server has gone


def restart(folder: Path, timeout: float = 60.0) -> None:
    """Start again the server of the cluster in ``folder`` after it died (``kill -9`` of the
    postmaster), keeping its data: what was committed is there again (``fsync`` off loses
    nothing while the machine stays up).

    Waits for the dead server's processes to go (backends end when they notice the
    postmaster has gone; a process still working in ``folder/data`` blocks the start), then
    removes its lock files when their process is dead or a zombie nobody reaped (PostgreSQL
    takes a zombie's id for a live server), and starts the server with ``pg_ctl``.
    """
    folder = Path(folder).resolve()
    data = folder / "data"
    bin_ = bindir()
    if bin_ is None:
        raise PostgresError("PostgreSQL is not installed (no pg_ctl)")
    if is_running(folder):
        return
    deadline = time.monotonic() + timeout
    while _working_in(data):
        if time.monotonic() > deadline:
            raise PostgresError(f"processes of the dead server still run in {data}")
        time.sleep(0.1)
    for lock in [data / "postmaster.pid", *folder.glob(".s.PGSQL.*.lock")]:
        if lock.exists() and _live_pid(lock) is None:
            lock.unlink()
            if lock.name.startswith(".s.PGSQL."):
                Path(str(lock).removesuffix(".lock")).unlink(missing_ok=True)
    _run(
        [str(bin_ / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log")]
        + ["-w", "-t", str(int(timeout)), "start"],
        folder,
        server_user(),
    )


def _working_in(data: Path) -> list[int]:
    """Live (not zombie) processes whose working directory is ``data``: the server's."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if Path(os.readlink(proc / "cwd")) != data:
                continue
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            found.append(int(proc.name))
    return found


def _sweep_stale(base: Path) -> None:
    """Stop and remove fixture folders whose pytest process (``owner`` file) has gone."""
    for folder in base.glob(PREFIX + "*"):
        try:
            owner = int((folder / "owner").read_text())
            os.kill(owner, 0)
            continue  # that session is still running
        except (OSError, ValueError):
            pass
        try:
            stop(folder, mode="immediate")
        except PostgresError:
            continue  # leave what cannot be stopped, rather than remove a live cluster's files
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url``: its URL, dropped afterwards."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    parts = urlparse(server_url)
    try:
        yield urlunparse(parts._replace(path="/" + name))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a database ``beatbook`` on a PostgreSQL server started for this session.

    Installs PostgreSQL with scripts/system-packages when it is missing; skips only where it
    cannot be installed (no apt-get). The server is stopped and its folder removed at the
    end, also when a test or this set-up fails.
    """
    if bindir() is None:
        if shutil.which("apt-get") is None:
            pytest.skip("PostgreSQL is not installed and there is no apt-get to install it")
        subprocess.run([str(SYSTEM_PACKAGES)], check=True)
        if bindir() is None:
            pytest.fail(f"{SYSTEM_PACKAGES} ran but initdb/pg_ctl are still missing")
    base = Path(tempfile.gettempdir())
    _sweep_stale(base)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
    (folder / "owner").write_text(str(os.getpid()))

    def finish() -> None:
        try:
            stop(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    request.addfinalizer(finish)
    yield start(folder)


if __name__ == "__main__":
    commands = {"start": lambda f: print(start(f)), "stop": stop, "restart": restart}
    if len(sys.argv) != 3 or sys.argv[1] not in commands:
        sys.exit("usage: postgres.py start|stop|restart FOLDER")
    try:
        commands[sys.argv[1]](Path(sys.argv[2]))
    except PostgresError as exc:
        sys.exit(f"error: {exc}")
