"""Images the team uploads for its community update's text: the only pictures the team's
Markdown may show (``![description](NAME)``), kept per area in the store.

An upload must be a PNG or JPEG of at most :data:`MAX_BYTES` and :data:`MAX_PIXELS`; it is
decoded and encoded again (Pillow), so what is kept is a plain picture without its metadata
(a phone photo's location included), at most :data:`MAX_SIDE` pixels on its longer side.
Its NAME comes from the file's name (lower case letters, digits and hyphens, then ``.png`` or
``.jpg``); uploading the same name again replaces the picture. They are team records
(``store.team_records``). A published update carries its own copy of each picture it shows,
as ``team-NAME`` (:func:`file_name`).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from beatbook.errors import InputError
from beatbook.records.engine import utc_now, utc_text
from beatbook.records.schema import update_images
from beatbook.store import Store

MAX_BYTES = 5_000_000  # an upload, before it is re-encoded
MAX_PIXELS = 40_000_000  # width x height of an upload (a decompression bomb is refused)
MAX_SIDE = 2000  # pixels on the longer side of what is kept
FORMATS = {"PNG": ".png", "JPEG": ".jpg"}
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,58}\.(png|jpg)$")
PREFIX = "team-"


@dataclass(frozen=True)
class Image:
    """An uploaded image as kept: its name, encoded bytes and size in pixels."""

    name: str
    data: bytes
    width: int
    height: int


def file_name(name: str) -> str:
    """The file a published update keeps the image ``name`` in: ``team-NAME``."""
    return PREFIX + name


def image_name(filename: str, extension: str) -> str:
    """A NAME from an uploaded file's name: 'PCSO Surgery (1).JPEG' -> 'pcso-surgery-1.jpg'."""
    stem = Path(filename.replace("\\", "/")).stem.lower()
    stem = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:50].strip("-") or "image"
    return f"{stem}{extension}"


def prepare(data: bytes, filename: str) -> Image:
    """Check an upload and encode it again; refused uploads name the file and what was
    expected."""
    from PIL import Image as PILImage  # imported here: only uploads need it

    where = f"image {filename!r}"
    if not data:
        raise InputError(f"{where}: the file is empty; expected a PNG or JPEG picture")
    if len(data) > MAX_BYTES:
        raise InputError(
            f"{where}: {len(data):,} bytes; at most {MAX_BYTES:,} (a PNG or JPEG picture)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            picture = PILImage.open(io.BytesIO(data), formats=list(FORMATS))
            fmt = picture.format or ""
            width, height = picture.size
            if width * height > MAX_PIXELS:
                raise InputError(
                    f"{where}: {width} x {height} pixels; at most {MAX_PIXELS:,} pixels in all"
                )
            picture.load()
    except InputError:
        raise
    except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombError, Warning) as exc:
        raise InputError(f"{where}: not a PNG or JPEG picture that can be read ({exc})") from exc
    if fmt not in FORMATS:
        raise InputError(f"{where}: a {fmt or 'unknown'} file; expected a PNG or JPEG picture")
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if fmt == "JPEG":
        picture.convert("RGB").save(out, format="JPEG", quality=88)
    else:
        keep = "RGBA" if picture.mode in ("RGBA", "LA", "P") else "RGB"
        picture.convert(keep).save(out, format="PNG", optimize=True)
    return Image(image_name(filename, FORMATS[fmt]), out.getvalue(), *picture.size)


def read_image(path: Path) -> Image:
    """:func:`prepare` for a file on disk (``beatbook update --image``)."""
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"--image {path}: cannot read ({exc.strerror})") from exc
    return prepare(data, Path(path).name)


def save_image(store: Store, area_ref: str, image: Image, by: str) -> Image:
    """Keep a prepared image for the area, replacing one of the same name."""
    if not NAME.match(image.name):
        raise InputError(f"image name {image.name!r}: expected letters, digits and '-', .png/.jpg")
    kept = {
        "data": image.data,
        "width": image.width,
        "height": image.height,
        "uploaded_by": by,
        "uploaded_at": utc_now(),
    }
    change = (
        insert(update_images)
        .values(area=area_ref, name=image.name, **kept)
        .on_conflict_do_update(
            index_elements=[update_images.c.area, update_images.c.name], set_=kept
        )
    )
    store.team_records.transact(lambda c: c.execute(change))
    return image


def image_names(store: Store, area_ref: str) -> frozenset[str]:
    """The names of the area's uploaded images."""
    with store.team_records.connect() as c:
        names = c.execute(
            sa.select(update_images.c.name).where(update_images.c.area == area_ref)
        ).scalars()
        return frozenset(str(n) for n in names)


def list_images(store: Store, area_ref: str) -> list[dict[str, object]]:
    """The area's uploaded images (no bytes): name, width, height, size, by, at."""
    t = update_images.c
    with store.team_records.connect() as c:
        rows = c.execute(
            sa.select(
                t.name,
                t.width,
                t.height,
                sa.func.octet_length(t.data),
                t.uploaded_by,
                t.uploaded_at,
            )
            .where(t.area == area_ref)
            .order_by(t.name)
        ).all()
    return [
        {
            "name": name,
            "width": width,
            "height": height,
            "bytes": size,
            "uploaded_by": by,
            "uploaded_at": utc_text(at, "%Y-%m-%d %H:%M UTC"),
        }
        for name, width, height, size, by, at in rows
    ]


def image_files(store: Store, area_ref: str, names: Iterable[str]) -> dict[str, bytes]:
    """The area's images called ``names`` as the files a published update keeps
    (``team-NAME`` -> bytes); names without an image are left out."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    t = update_images.c
    with store.team_records.connect() as c:
        rows = c.execute(
            sa.select(t.name, t.data).where(t.area == area_ref, t.name.in_(wanted))
        ).all()
    return {file_name(str(n)): bytes(d) for n, d in rows}
