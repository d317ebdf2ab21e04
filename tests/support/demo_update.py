"""The demo's October 2025 community update, built the way ``make demo`` builds it, for the
tests of the letter a three-ward team with four priorities sends (layout, links, team).

The store holds the real police.uk street files for January to September 2025 (2024 is
not bundled: the chart's first four months are missing, as in the demo), both ONS lookups and
Leicester's boundaries; the "West Leicester" area of three wards; the sample concerns;
the sample October operation and engagements; as in the Makefile, September 2025's proposals
with the first, third and fifth adopted and the fifth closed, then October's proposals (the
running ones shown as running), the first two of September continued and October's third
(labelled by the team) and fifth adopted. The letter uses the sample text and
``data/sample/update/team.toml``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from beatbook import engagements
from beatbook.areas import add_area
from beatbook.concerns.csv_import import import_concerns
from beatbook.ingest import ons
from beatbook.ingest.boundaries import import_boundaries
from beatbook.ingest.policeuk_csv import ingest
from beatbook.operations import csv_import as operations_csv
from beatbook.priorities import lifecycle, review
from beatbook.priorities.propose import propose
from beatbook.publish import team_content, update
from beatbook.store import Store
from support.fixtures_store import (
    BRIDGE_LOOKUP,
    LEICESTER_BOUNDARIES,
    POLICE,
    SAMPLE,
    WARD_LOOKUP,
)

AREA = "custom:West Leicester"
WARDS = ("Westcotes", "Fosse", "Western")
INSPECTOR = "Insp. Sample (demo entry)"
UPDATE = SAMPLE / "update"
SEPTEMBER, OCTOBER = dt.date(2025, 9, 1), dt.date(2025, 10, 1)
MONTHS = [f"2025-{m:02d}" for m in range(1, 10)]
LABEL = "the petrol station on Upperton Road"  # the Makefile's label for October's third


@dataclass
class DemoUpdate:
    store_path: Path
    out: Path
    result: update.Update


@pytest.fixture(scope="session")
def demo_update(tmp_path_factory: pytest.TempPathFactory) -> DemoUpdate:
    folder = tmp_path_factory.mktemp("demo-update")
    path = folder / "demo.duckdb"
    with Store(path) as st:
        ingest(st, [POLICE / f"{m}-leicestershire-street.csv.gz" for m in MONTHS])
        ons.import_lookup(st, WARD_LOOKUP)
        ons.import_lookup(st, BRIDGE_LOOKUP)
        import_boundaries(st, LEICESTER_BOUNDARIES)
        add_area(
            st, "West Leicester", lsoas=[], wards=[f"{w} (Leicester)" for w in WARDS], geojson=None
        )
        import_concerns(st, SAMPLE / "concerns" / "leicester-concerns.csv", "Leicester")
        operations_csv.import_files(
            st, [UPDATE / "operations.csv", UPDATE / "results.csv"], by="PC 2741"
        )
        engagements.import_csv(st, UPDATE / "engagements.csv")
        september = lifecycle.save_proposals(st, propose(st, AREA, "2025-08", per_ward=2))
        for pid in september[0:5:2]:
            lifecycle.decide(st, pid, "adopted", INSPECTOR, month=SEPTEMBER)
        review.close(st, september[4], INSPECTOR, SEPTEMBER)
        october = lifecycle.save_proposals(st, propose(st, AREA, "2025-09", per_ward=2))
        for pid in september[0:3:2]:
            lifecycle.decide(st, pid, "continued", INSPECTOR, month=OCTOBER)
        lifecycle.decide(
            st, october[2], "adopted", INSPECTOR, month=OCTOBER, details={"label": LABEL}
        )
        lifecycle.decide(st, october[4], "adopted", INSPECTOR, month=OCTOBER)
        settings = team_content.load_settings(UPDATE / "team.toml")
        _, sections = team_content.read_sections(UPDATE / "west-leicester-2025-10.md")
        result = update.build(st, "West Leicester", "2025-10", settings=settings, sections=sections)
    out = folder / "out"
    update.write(result, out)
    return DemoUpdate(path, out, result)
