"""The community update scenario (:mod:`support.update_scenario`) and the demo-shaped October
2025 letter (:mod:`support.demo_update`), shared by the ``test_update_*`` modules."""

from __future__ import annotations

from support.demo_update import demo_update
from support.update_scenario import cli_run, db, gathered, pdf_text, scenario

__all__ = ["cli_run", "db", "demo_update", "gathered", "pdf_text", "scenario"]
