# BeatBook: `make demo` runs the whole job on the bundled real sample; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STORE  := demo-output/beatbook.duckdb
SAMPLE := data/sample
DEMO_INSPECTOR := Insp. Sample (demo entry)
# Test workers (pytest-xdist): one per core, at most 4; a module's tests stay together, in order.
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)
# The second pass of `make test`: the web and priorities suites again with each store's team
# records in a fresh PostgreSQL database (--records-backend postgres, issue 20). Left out of
# it, to keep the suite well under 15 minutes: the input fuzzing and the browser tests (the
# same routes, run in the pass too through TestClient), the workers test (on PostgreSQL in
# both passes) and the pure statistics of priorities (no records). docs/architecture.md, Tests.
POSTGRES_TESTS ?= tests/web tests/priorities \
	--ignore=tests/web/test_input_properties.py \
	--ignore=tests/web/test_browser.py --ignore=tests/web/test_public_browser.py \
	--ignore=tests/web/test_workers.py --ignore=tests/web/test_server_limits.py \
	--ignore=tests/priorities/test_assess.py --ignore=tests/priorities/test_score.py \
	--ignore=tests/priorities/test_naming.py --ignore=tests/priorities/test_wording_public.py \
	--ignore=tests/priorities/test_wording_months.py

.PHONY: demo test check lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[web,dev]'
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
	$(BIN)/beatbook --store $(STORE) trend --area Leicester --from 2020-01 --to 2025-09 --out demo-output
	$(BIN)/beatbook --store $(STORE) check --area Leicester --period 2020 --claim "rate=97" --claim "share:drugs=3.8%" --claim "count:drugs=1577"
	$(BIN)/beatbook --store $(STORE) hotspots --area Leicester --month 2021-06
	$(BIN)/beatbook --store $(STORE) areas add "West Leicester" --ward "Westcotes (Leicester)" --ward "Fosse (Leicester)" --ward "Western (Leicester)"
	$(BIN)/beatbook --store $(STORE) concerns import $(SAMPLE)/concerns/leicester-concerns.csv --area Leicester
	$(BIN)/beatbook --store $(STORE) ops import $(SAMPLE)/operations/operations.csv $(SAMPLE)/operations/results.csv --by "PC 2741"
	$(BIN)/beatbook --store $(STORE) engagements import $(SAMPLE)/operations/engagements.csv
	$(BIN)/beatbook --store $(STORE) engagements ical --out demo-output/engagements.ics
	$(BIN)/beatbook --store $(STORE) priorities propose --area "custom:West Leicester" --month 2021-06 --per-ward 2 --save
	$(BIN)/beatbook --store $(STORE) jag --area "custom:West Leicester" --month 2021-06 --out demo-output/jag-west-leicester-2021-07
	@echo "--- the October 2025 community update (sample decisions, operation and events; real crime data) ---"
	$(BIN)/beatbook --store $(STORE) ops import $(SAMPLE)/update/operations.csv $(SAMPLE)/update/results.csv --by "PC 2741"
	$(BIN)/beatbook --store $(STORE) engagements import $(SAMPLE)/update/engagements.csv
	$(BIN)/beatbook --store $(STORE) priorities propose --area "custom:West Leicester" --month 2025-08 --per-ward 2 --save > /dev/null
	# Ids 7-12 are September 2025's proposals (1-6 are July 2021's); three are adopted, one closed.
	for id in 7 9 11; do $(BIN)/beatbook --store $(STORE) priorities adopt $$id --month 2025-09 --by "$(DEMO_INSPECTOR)"; done
	$(BIN)/beatbook --store $(STORE) priorities close 11 --month 2025-09 --by "$(DEMO_INSPECTOR)"
	# October's proposals (from 13) show the two running priorities as running, not as new.
	$(BIN)/beatbook --store $(STORE) priorities propose --area "custom:West Leicester" --month 2025-09 --per-ward 2 --save > /dev/null
	for id in 7 9; do $(BIN)/beatbook --store $(STORE) priorities continue $$id --month 2025-10 --by "$(DEMO_INSPECTOR)"; done
	$(BIN)/beatbook --store $(STORE) priorities adopt 15 --label "the petrol station on Upperton Road" --by "$(DEMO_INSPECTOR)"
	$(BIN)/beatbook --store $(STORE) priorities adopt 17 --by "$(DEMO_INSPECTOR)"
	$(BIN)/beatbook --store $(STORE) update --area "West Leicester" --month 2025-10 --text $(SAMPLE)/update/west-leicester-2025-10.md --settings $(SAMPLE)/update/team.toml --out demo-output/update-west-leicester-2025-10

# Both passes run; the target fails if either does.
test: $(BIN)/.installed
	scripts/system-packages
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadscope; embedded=$$?; \
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadscope --records-backend postgres \
		$(POSTGRES_TESTS); postgres=$$?; \
	[ $$embedded -eq 0 ] && [ $$postgres -eq 0 ]

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

check: lint test

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/overdispersion.py
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/forecast.py
	$(BIN)/python benchmarks/priorities.py $(STORE)
	$(BIN)/python benchmarks/placebo.py $(STORE)
	$(BIN)/python benchmarks/web.py $(STORE)

clean:
	rm -rf $(VENV) demo-output .pytest_cache
