# BeatBook: `make demo` runs the whole job on the bundled real sample; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STORE  := demo-output/beatbook.duckdb
SAMPLE := data/sample

.PHONY: demo test check lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	rm -rf demo-output && mkdir -p demo-output
	$(BIN)/beatbook --store $(STORE) ingest $(SAMPLE)/police-uk
	$(BIN)/beatbook --store $(STORE) areas import-lookup $(SAMPLE)/ons/lsoa11-ward19-lad19-ew.csv.gz
	$(BIN)/beatbook --store $(STORE) areas import-lookup $(SAMPLE)/ons/lsoa11-lsoa21-lad22-ew.csv.gz
	$(BIN)/beatbook --store $(STORE) areas import-population $(SAMPLE)/ons/lsoa11-population-mid2019-ew.csv.gz --year 2019
	$(BIN)/beatbook --store $(STORE) areas import-population $(SAMPLE)/ons/lsoa21-population-mid2022-ew.csv.gz --year 2022
	$(BIN)/beatbook --store $(STORE) areas import-boundaries $(SAMPLE)/ons/boundaries/lsoa11-E06000016-leicester.geojson.gz
	$(BIN)/beatbook --store $(STORE) brief --area Leicester --year 2021 --compare-year 2020 --out demo-output
	$(BIN)/beatbook --store $(STORE) hotspots --area Leicester --month 2021-06
	$(BIN)/beatbook --store $(STORE) areas add "West Leicester" --ward "Westcotes (Leicester)" --ward "Fosse (Leicester)" --ward "Western (Leicester)"
	$(BIN)/beatbook --store $(STORE) concerns import $(SAMPLE)/concerns/leicester-concerns.csv --area Leicester
	$(BIN)/beatbook --store $(STORE) ops import $(SAMPLE)/operations/operations.csv $(SAMPLE)/operations/results.csv --by "PC 2741"
	$(BIN)/beatbook --store $(STORE) engagements import $(SAMPLE)/operations/engagements.csv
	$(BIN)/beatbook --store $(STORE) engagements ical --out demo-output/engagements.ics
	$(BIN)/beatbook --store $(STORE) priorities propose --area "custom:West Leicester" --month 2021-06 --per-ward 2 --save
	$(BIN)/beatbook --store $(STORE) jag --area "custom:West Leicester" --month 2021-06 --out demo-output/jag-west-leicester-2021-07

test: $(BIN)/.installed
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src

check: lint test

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/forecast.py
	$(BIN)/python benchmarks/priorities.py $(STORE)

clean:
	rm -rf $(VENV) demo-output .pytest_cache
