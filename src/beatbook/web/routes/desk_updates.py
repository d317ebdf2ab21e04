"""Community updates on the desk: /desk/updates (the team's text for an area and month, its
uploaded images, what is published), /desk/updates/preview (the update as it would be
published now, as its own document), and the inspector's forms: save the text, upload an
image, publish.

The text is edited beside a live preview: /desk/updates/text/preview renders what is typed
section by section with :func:`beatbook.publish.team_markdown.to_html`, the function and
sanitiser the letter uses (only an uploaded image's address differs: the letter's own file
there, /desk/updates/image here), and says what saving would refuse."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.responses import Response

from beatbook import areas as areas_mod
from beatbook.errors import BeatBookError, InputError
from beatbook.months import parse_month
from beatbook.publish import published, team_content, team_images, team_markdown
from beatbook.publish.update import update_month
from beatbook.users import User
from beatbook.web.deps import ReadStore, Viewer, check_csrf, database, render, require, templates
from beatbook.web.plain import web_message
from beatbook.web.routes.desk_common import back, flash, select
from beatbook.web.routes.public import update_url

router = APIRouter()
PAGE = "/desk/updates"
CSRF = [Depends(check_csrf)]


@router.get(PAGE)
def updates_page(
    request: Request,
    store: ReadStore,
    user: Viewer,
    area: str | None = None,
    month: str | None = None,
) -> Response:
    sel = select(store, area, month, after_data=True)
    text, source, error = "", None, sel.error
    done: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    if sel.area and not error:
        try:
            ref = areas_mod.reference(areas_mod.resolve(store, sel.area))
            found = team_content.stored_text(store, ref, parse_month(sel.month, "month"))
            if found:
                text, source = found
            images = team_images.list_images(store, ref)
            done = [
                {**p, "url": update_url(p["area"], p["month"])}
                for p in published.list_published(store)
                if p["area"] == ref
            ]
        except BeatBookError as exc:
            error = str(exc)
    return render(
        request,
        "desk_updates.html.j2",
        {
            "tab": "updates",
            "sel": sel,
            "text": text,
            "source": source,
            "published": done,
            "images": images,
            "flash": flash(request),
            "error": error,
        },
    )


@router.get(PAGE + "/preview")
def preview(
    store: ReadStore,
    user: Viewer,
    area: str,
    month: str,
) -> Response:
    """The update for ``area`` and ``month`` as publishing it now would make it (not stored)."""
    html = published.preview_update(store, area, month)
    return HTMLResponse(html, headers={"Cache-Control": "private, no-store"})


@router.post(PAGE + "/text/preview", dependencies=CSRF)
def preview_text(
    store: ReadStore,
    user: Annotated[User, require("publish")],
    area: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    """The team's text as the letter would show it (nothing stored): ``html``, its sections
    rendered and sanitised as in the letter, and ``problem``, what saving it would refuse
    (empty when it would be saved)."""
    ref = areas_mod.reference(areas_mod.resolve(store, area))
    names = team_images.image_names(store, ref)
    text = text.replace("\r\n", "\n")[: team_content.MAX_TEXT + 1]
    problem = ""
    try:
        sections = team_content.parse_sections(text, "the text", names)
    except BeatBookError as exc:
        problem = web_message(str(exc))
        try:
            sections = team_content.parse_sections(text, "the text", names, strict=False)
        except BeatBookError:  # no sections to show: the text as one block
            sections = [team_content.Section("", text)]
    if len(text) > team_content.MAX_TEXT:
        problem = f"the text is over {team_content.MAX_TEXT:,} characters: it cannot be saved"
    addresses = {n: f"{PAGE}/image?{urlencode({'area': ref, 'name': n})}" for n in names}
    shown = [(s.heading, team_markdown.to_html(s.markdown, addresses)) for s in sections]
    html = templates.get_template("desk_update_preview.html.j2").render(sections=shown)
    return JSONResponse(
        {"html": html, "problem": problem}, headers={"Cache-Control": "private, no-store"}
    )


@router.get(PAGE + "/image")
def uploaded_image(store: ReadStore, user: Viewer, area: str, name: str) -> Response:
    """An image the team uploaded for ``area``, for the text's preview."""
    ref = areas_mod.reference(areas_mod.resolve(store, area))
    found = team_images.image_files(store, ref, [name])
    if not found:
        raise InputError(f"image {name!r}: not uploaded for {ref}")
    kind = "image/png" if name.endswith(".png") else "image/jpeg"
    return Response(
        next(iter(found.values())),
        media_type=kind,
        headers={"Cache-Control": "private, max-age=300"},
    )


@router.post(PAGE + "/text", dependencies=CSRF)
def save_text(
    request: Request,
    user: Annotated[User, require("publish")],
    area: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    """Keep the team's Markdown for the update (checked as a file would be)."""
    try:
        with database(request).write() as store:
            ref = areas_mod.reference(areas_mod.resolve(store, area))
            sections = team_content.save_text_string(
                store, ref, update_month(store, month, "month"), text, f"web desk, {user.username}"
            )
    except BeatBookError as exc:
        return back(request, PAGE, str(exc), error=True, area=area, month=month)
    headings = ", ".join(s.heading for s in sections)
    return back(
        request, PAGE, f"Text saved: {len(sections)} sections ({headings}).", area=area, month=month
    )


@router.post(PAGE + "/image", dependencies=CSRF)
def upload_image(
    request: Request,
    user: Annotated[User, require("publish")],
    area: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
    image: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Keep an image the team's text may show (checked and re-encoded by the library)."""
    try:
        if image is None or not image.filename:
            raise InputError("choose a PNG or JPEG file to upload")
        picture = team_images.prepare(
            image.file.read(team_images.MAX_BYTES + 1), image.filename or "image"
        )
        with database(request).write() as store:
            ref = areas_mod.reference(areas_mod.resolve(store, area))
            team_images.save_image(store, ref, picture, user.username)
    except BeatBookError as exc:
        return back(request, PAGE, str(exc), error=True, area=area, month=month)
    message = (
        f"Image uploaded as {picture.name} ({picture.width} x {picture.height}): "
        f"show it in the text with ![description]({picture.name})"
    )
    return back(request, PAGE, message, area=area, month=month)


@router.post(PAGE + "/publish", dependencies=CSRF)
def publish(
    request: Request,
    user: Annotated[User, require("publish")],
    area: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
) -> Response:
    """Build the update with the stored text and publish it (replacing an earlier one)."""
    try:  # built and rendered on a read cursor: the write lock is held only to store it
        with database(request).read() as store:
            rendered = published.render_publication(store, area, month)
        with database(request).write() as store:
            done = published.store_publication(store, rendered, user.username)
    except BeatBookError as exc:
        return back(request, PAGE, str(exc), error=True, area=area, month=month)
    message = f"Published “{done['title']}”: {update_url(done['area'], done['month'])}"
    return back(request, PAGE, message, area=area, month=month)
