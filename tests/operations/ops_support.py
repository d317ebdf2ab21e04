"""What the operations tests share: the fixture CSVs and the West Leicester team area."""

from __future__ import annotations

from pathlib import Path

from beatbook import areas
from beatbook.store import Store

DATA = Path(__file__).parents[1] / "data" / "operations"
OPERATIONS_CSV, RESULTS_CSV = DATA / "operations.csv", DATA / "results.csv"
WEST_WARDS = ["Westcotes (Leicester)", "Fosse (Leicester)", "Western (Leicester)"]


def define_west(store: Store) -> None:
    areas.add_area(store, "West Leicester", lsoas=[], wards=WEST_WARDS, geojson=None)
