"""police.uk's snap-point words: the prefix of every location and its generic kinds.

police.uk moves every crime to the nearest of a fixed set of anonymous map points and
writes its location as "On or near <name>". Most names are streets; some are one of a
fixed list of generic kinds ("On or near Supermarket"). Place naming (priorities) and
matching residents' words to places (concerns) both read these from here.
"""

from __future__ import annotations

__all__ = ["GENERIC_KINDS", "PREFIX", "is_generic", "point_name"]

PREFIX = "On or near "
# police.uk's generic map-point kinds, as they appear after "On or near" (seen in the
# published data; the list is police.uk's, not BeatBook's choice).
GENERIC_KINDS = frozenset(
    {
        "Supermarket",
        "Parking Area",
        "Petrol Station",
        "Sports/Recreation Area",
        "Shopping Area",
        "Park/Open Space",
        "Nightclub",
        "Pedestrian Subway",
        "Police Station",
        "Further/Higher Educational Building",
        "Hospital",
        "Conference/Exhibition Centre",
        "Theatre/Concert Hall",
        "Motorway Service Area",
        "Bus/Coach Station",
        "Prison",
        "Airport/Airfield",
        "Theme/Adventure Park",
        "Train Station",
        "Underground Station",
        "Ferry Terminal",
        "Marina",
    }
)


def point_name(location: str) -> str:
    """'On or near Elm Close' -> 'Elm Close' (a name without the prefix is kept whole)."""
    return location[len(PREFIX) :] if location.startswith(PREFIX) else location


def is_generic(location: str) -> bool:
    """Whether a snap point is one of police.uk's generic kinds rather than a named place."""
    return point_name(location) in GENERIC_KINDS
