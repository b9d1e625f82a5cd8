# Two commands set up and run everything: `make run` and `make test`.
PYTHON ?= python3
PORT ?= 8501
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint sample clean

# The stamp is rebuilt whenever requirements.txt changes, so a pin bump reinstalls.
$(VENV)/installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

run: $(VENV)/installed
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: $(VENV)/installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerate the bundled demo data from its seeded script.
sample: $(VENV)/installed
	$(BIN)/python -m sample_data.generate

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
