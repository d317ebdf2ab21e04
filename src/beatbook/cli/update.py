"""The ``beatbook update`` command: the monthly community update (registered on ``app``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from beatbook.cli._common import AreaOpt, JsonOpt, StoreOpt, app, open_store, out, print_json
from beatbook.settings import UPCOMING_WEEKS


@app.command()
def update(
    area: AreaOpt,
    month: Annotated[
        str, typer.Option(help="Month the update is for, YYYY-MM (its priorities run in it).")
    ],
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Folder for update.html, update.pdf, update.txt and pictures."),
    ],
    store: StoreOpt = None,
    text: Annotated[
        Path | None,
        typer.Option(
            help="The team's Markdown ('## ' sections: message, news, notices); kept in the store for this area and month."
        ),
    ] = None,
    settings: Annotated[
        Path | None,
        typer.Option(
            help="TOML file: team name, contact, reporting channels; kept in the store for this area."
        ),
    ] = None,
    image: Annotated[
        list[Path] | None,
        typer.Option(
            help="A PNG or JPEG the text shows as ![description](NAME), NAME from the file's name; kept in the store for this area (repeat for more)."
        ),
    ] = None,
    templates: Annotated[
        Path | None, typer.Option(help="Folder with your own update.html.j2 and update.txt.j2.")
    ] = None,
    weeks: Annotated[
        int, typer.Option(help="Engagements listed: this many weeks from the 1st of the month.")
    ] = UPCOMING_WEEKS,
    json_out: JsonOpt = False,
) -> None:
    """Write the monthly community update for residents: priorities, you said / we did,
    operation results, engagements, how to report, and the team's own text.

    Example: [bold]beatbook update --area "West Leicester" --month 2025-10 --text october.md --out update/[/bold]
    """
    from beatbook import areas as areas_mod
    from beatbook.months import parse_month
    from beatbook.publish import team_content, team_images
    from beatbook.publish import update as update_mod

    target = parse_month(month, "--month")
    settings_text = team_content.read_settings_text(settings) if settings else None
    pictures = [team_images.read_image(p) for p in image or []]  # all checked before any kept
    writes = text is not None or settings is not None or bool(pictures)
    with open_store(store, writes_team=writes) as st:
        ref = areas_mod.reference(areas_mod.resolve(st, area))
        names = team_images.image_names(st, ref) | {p.name for p in pictures}
        team = (
            team_content.parse_settings(settings_text, str(settings), base=settings.parent)
            if settings is not None and settings_text is not None
            else team_content.stored_settings(st, ref)
        )
        checked = team_content.read_sections(text, names)[1] if text else None
        for picture in pictures:
            team_images.save_image(st, ref, picture, "beatbook update --image")
        sections = checked if checked is not None else team_content.stored_sections(st, ref, target)
        result = update_mod.build(st, area, month, settings=team, sections=sections, weeks=weeks)
        files = update_mod.write(result, out_dir, templates)
        if text is not None:
            team_content.save_text(st, ref, target, text)
        if settings is not None and settings_text is not None:
            team_content.save_settings(st, ref, settings_text, settings.name)
    if json_out:
        print_json({**result.facts, "files": [str(f) for f in files]})
        return
    out.print(
        f"wrote {', '.join(str(f) for f in files[:3])} and {len(files) - 3} pictures", markup=False
    )
