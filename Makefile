# Two commands set up and run everything: `make run` and `make test`.
PYTHON ?= python3
PORT ?= 8501
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint sample bench bench-sessions screenshots clean

# The stamp is rebuilt whenever requirements.txt changes, so a pin bump reinstalls.
$(VENV)/installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Opens the browser where there is a screen; on a server, open the URL Streamlit prints.
run: $(VENV)/installed
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || [ "$$(uname)" = Darwin ]; then \
		(sleep 4; $(BIN)/python -m webbrowser -t "http://localhost:$(PORT)" >/dev/null 2>&1) & \
	fi
	$(BIN)/streamlit run app.py --server.port $(PORT)

# The tests run on TEST_WORKERS processes, a test module to a worker (its browser server and
# database fixtures start once): on two cores, 10½ minutes instead of 17.
TEST_WORKERS ?= 2
test: $(VENV)/installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope

lint: $(VENV)/installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Times the load and every page at 10k, 100k and 1M deals against DuckDB's read_csv and pandas
# (BENCH_5M=1 adds 5M), then saving and reading back a 100k-deal snapshot in each store
# (PostgreSQL only when BENCH_DATABASE_URL names one); prints the tables and writes
# bench/results.json.
bench: $(VENV)/installed
	$(BIN)/python -m bench.run

# Ten browser sessions, each uploading its own 100k-deal export and opening every page together:
# errors, p50/p95 page times and the servers' own CPU seconds per page view and per upload, written
# to bench/sessions.json. `make bench-sessions BENCH_PROCESSES=2` spreads them over two server
# processes (a data folder each, or the PostgreSQL store CLOSEBOARD_DATABASE_URL names).
BENCH_PROCESSES ?= 1
bench-sessions: $(VENV)/installed
	$(BIN)/python -m bench.sessions --processes $(BENCH_PROCESSES)

# Regenerate the bundled demo data from its seeded script.
sample: $(VENV)/installed
	$(BIN)/python -m sample_data.generate

# The README's screenshot of each page, on the sample data in headless Chromium.
screenshots: $(VENV)/installed
	$(BIN)/python -m docs.screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
