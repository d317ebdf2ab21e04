"""The desk's dashboard: /desk (an area's month in figures, its trend and the map), the trend
chart /desk/chart/trend.png and the map layers /desk/api/map/{layer} (GeoJSON)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from beatbook.errors import BeatBookError
from beatbook.figures import dashboard, map_layers
from beatbook.web.deps import ReadStore, Viewer, render
from beatbook.web.routes.desk_common import flash, select

router = APIRouter()
PRIVATE = {"Cache-Control": "private, max-age=300"}


@router.get("/desk")
def dashboard_page(
    request: Request,
    store: ReadStore,
    user: Viewer,
    area: str | None = None,
    month: str | None = None,
) -> Response:
    sel = select(store, area, month)
    summary, error = None, sel.error
    if sel.area and not error:
        try:
            summary = dashboard.summary(store, sel.area, sel.month)
        except BeatBookError as exc:
            error = str(exc)
    return render(
        request,
        "desk_dashboard.html.j2",
        {
            "tab": "dashboard",
            "sel": sel,
            "summary": summary,
            "error": error,
            "flash": flash(request),
            "tile_url": request.app.state.tile_url or "",
            "layers": map_layers.LAYERS,
        },
    )


@router.get("/desk/chart/trend.png")
def trend_chart(
    store: ReadStore,
    user: Viewer,
    area: str,
    month: str,
) -> Response:
    """The area's 13-month trend as a PNG (its alt text is on the dashboard)."""
    png, _ = dashboard.trend_png(store, area, month)
    return Response(png, media_type="image/png", headers=PRIVATE)


@router.get("/desk/api/map/{layer}")
def map_layer(
    store: ReadStore,
    user: Viewer,
    layer: str,
    area: str,
    month: str,
) -> Response:
    """One map layer as GeoJSON (see :mod:`beatbook.figures.map_layers`)."""
    try:
        collection = map_layers.layer(store, layer, area, month)
    except BeatBookError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(collection, media_type="application/geo+json", headers=PRIVATE)
