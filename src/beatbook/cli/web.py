"""The ``beatbook serve`` and ``beatbook users`` commands (registered on ``app``)."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from beatbook.cli._common import DatabaseOpt, JsonOpt, StoreOpt, app, open_store, out, print_json
from beatbook.errors import InputError
from beatbook.records.engine import DATABASE_ENV
from beatbook.store import STORE_ENV, default_store_path

users_app = typer.Typer(
    help="People who may use the web desk, and their roles.", no_args_is_help=True
)
app.add_typer(users_app, name="users")


@app.command()
def serve(
    store: StoreOpt = None,
    database: DatabaseOpt = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes (several need --database: they share its records).",
        ),
    ] = 1,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    tile_url: Annotated[
        str | None,
        typer.Option(
            help="Map tile URL template, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (maps work without)."
        ),
    ] = None,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies",
            help="Mark cookies Secure even if the proxy does not say the request came over TLS.",
        ),
    ] = False,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            metavar="ADDR",
            help="A reverse proxy's address or network (repeatable): only its X-Forwarded-For "
            "and X-Forwarded-Proto are believed. Without it they are ignored.",
        ),
    ] = None,
) -> None:
    """Serve the web desk and the public pages (uvicorn, with connection, header-timeout and
    log limits: docs/web.md). With --database the team's records are in PostgreSQL, the
    store file is only read, and --workers N runs N processes that share sessions, sign-in
    limits and the signing secret through it. CSRF tokens and desk messages are signed with
    $BEATBOOK_SECRET, or a secret kept with the records.

    Example: [bold]beatbook serve --port 8000 --trusted-proxy 127.0.0.1[/bold]
    """
    from beatbook.web import create_app
    from beatbook.web.app import SECRET_ENV, SERVE_OPTIONS_ENV
    from beatbook.web.server import run, run_workers

    path = store or default_store_path()
    if workers > 1:
        if database is None:
            raise InputError(
                "several workers need the team's records in PostgreSQL: add --database "
                "postgresql://… (a store file has one writing process)"
            )
        os.environ[STORE_ENV], os.environ[DATABASE_ENV] = str(path), database
        os.environ[SERVE_OPTIONS_ENV] = json.dumps(
            {
                "secure_cookies": secure_cookies,
                "tile_url": tile_url,
                "trusted_proxies": list(trusted_proxy or ()),
            }
        )
        run_workers("beatbook.web.app:app_from_environment", workers, host, port, log_level="info")
        return
    web = create_app(
        path,
        database=database,
        secret=os.environ.get(SECRET_ENV),
        secure_cookies=secure_cookies,
        tile_url=tile_url,
        trusted_proxies=trusted_proxy or (),
    )
    try:
        run(web, host, port, log_level="info")
    finally:
        web.state.db.close()


PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from standard input instead of asking."
    ),
]
UserArg = Annotated[str, typer.Argument(help="The user's login name.")]


def _read_password(from_stdin: bool) -> str:
    """Asked twice without echo, or one line of stdin: never an argument (shell history,
    ps)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _ended(n: int) -> str:
    return "1 session ended" if n == 1 else f"{n} sessions ended"


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name: letters, digits, '.', '_' or '-'.")],
    role: Annotated[str, typer.Option(help="admin, analyst, inspector or partner.")],
    store: StoreOpt = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user of the web desk (the password is asked twice, or read from stdin).

    Example: [bold]beatbook users add inspector.khan --role inspector[/bold]
    """
    from beatbook import users as users_mod

    users_mod.check_username(username)
    users_mod.check_role(role)
    password = _read_password(password_stdin)
    with open_store(store, writes_team=True) as st:
        user = users_mod.add_user(st, username, role, password)
    out.print(f"added {user.username} ({user.role})", markup=False)


@users_app.command("password")
def users_password(
    username: UserArg, store: StoreOpt = None, password_stdin: PasswordStdin = False
) -> None:
    """Set a user's password (asked twice, or read from stdin); ends all their sessions.

    Example: [bold]beatbook users password inspector.khan[/bold]
    """
    from beatbook import users as users_mod

    password = _read_password(password_stdin)
    with open_store(store, writes_team=True) as st:
        ended = users_mod.set_password(st, username, password)
    out.print(f"password of {username} set; {_ended(ended)}", markup=False)


@users_app.command("disable")
def users_disable(username: UserArg, store: StoreOpt = None) -> None:
    """Stop a user signing in and end all their sessions (never the last enabled admin).

    Example: [bold]beatbook users disable partner.jones[/bold]
    """
    from beatbook import users as users_mod

    with open_store(store, writes_team=True) as st:
        ended = users_mod.set_disabled(st, username, True)
    out.print(f"disabled {username}; {_ended(ended)}", markup=False)


@users_app.command("enable")
def users_enable(username: UserArg, store: StoreOpt = None) -> None:
    """Let a disabled user sign in again.

    Example: [bold]beatbook users enable partner.jones[/bold]
    """
    from beatbook import users as users_mod

    with open_store(store, writes_team=True) as st:
        users_mod.set_disabled(st, username, False)
    out.print(f"enabled {username}", markup=False)


@users_app.command("end-sessions")
def users_end_sessions(username: UserArg, store: StoreOpt = None) -> None:
    """Sign a user out everywhere at once (they can sign in again).

    Example: [bold]beatbook users end-sessions inspector.khan[/bold]
    """
    from beatbook import users as users_mod

    with open_store(store, writes_team=True) as st:
        ended = users_mod.end_sessions(st, username)
    out.print(f"{username}: {_ended(ended)}", markup=False)


@users_app.command("list")
def users_list(store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """Users with their role and whether they are disabled (never a password hash).

    Example: [bold]beatbook users list[/bold]
    """
    from beatbook import users as users_mod

    with open_store(store) as st:
        rows = users_mod.list_users(st)
    if json_out:
        print_json(rows)
        return
    table = Table("username", "role", "disabled", "created")
    for r in rows:
        table.add_row(
            str(r["username"]), str(r["role"]), "yes" if r["disabled"] else "", str(r["created_at"])
        )
    out.print(table)
