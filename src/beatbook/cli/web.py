"""The ``beatbook serve`` and ``beatbook users`` commands (registered on ``app``)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from beatbook.cli._common import JsonOpt, StoreOpt, app, out, print_json
from beatbook.store import Store, default_store_path

users_app = typer.Typer(
    help="People who may use the web desk, and their roles.", no_args_is_help=True
)
app.add_typer(users_app, name="users")
SECRET_ENV = "BEATBOOK_SECRET"


@app.command()
def serve(
    store: StoreOpt = None,
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
) -> None:
    """Serve the web desk and the public pages (uvicorn). Sessions are signed with
    $BEATBOOK_SECRET (random per start when unset: everyone signs in again after a restart).

    Example: [bold]beatbook serve --port 8000[/bold]
    """
    import uvicorn

    from beatbook.web import create_app

    path = store or default_store_path()
    web = create_app(
        path, secret=os.environ.get(SECRET_ENV), secure_cookies=secure_cookies, tile_url=tile_url
    )
    try:
        uvicorn.run(web, host=host, port=port, proxy_headers=True, log_level="info")
    finally:
        web.state.db.close()


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name: letters, digits, '.', '_' or '-'.")],
    role: Annotated[str, typer.Option(help="admin, analyst, inspector or partner.")],
    store: StoreOpt = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input instead of asking."
        ),
    ] = False,
) -> None:
    """Add a user of the web desk (the password is asked twice, or read from stdin).

    Example: [bold]beatbook users add inspector.khan --role inspector[/bold]
    """
    from beatbook import users as users_mod

    users_mod.check_username(username)
    users_mod.check_role(role)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with Store(store) as st:
        user = users_mod.add_user(st, username, role, password)
    out.print(f"added {user.username} ({user.role})", markup=False)


@users_app.command("list")
def users_list(store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """Users with their role and whether they are disabled (never a password hash).

    Example: [bold]beatbook users list[/bold]
    """
    from beatbook import users as users_mod

    with Store(store, read_only=True) as st:
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
