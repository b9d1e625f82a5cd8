"""Bad and hostile files: every file of tests/data/bad/ ends in a clear message or a counted
partial load within seconds, and cells are kept as typed."""

from __future__ import annotations

import importlib.util
import json
from datetime import date
from pathlib import Path

import pytest

from lib.load.errors import LoadError
from lib.load.opportunities import load_opportunities
from lib.load.reps import load_reps
from lib.load.targets import load_targets
from lib.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad"
CASES = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))
SETTINGS = Settings(as_of=date(2026, 11, 20))
# Each file is small: one that takes longer than this hangs.
SECONDS_PER_FILE = 20


def load_make_corpus():
    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_corpus = load_make_corpus()


@pytest.fixture(scope="module")
def corpus() -> dict[str, bytes]:
    """Every bad file by name: those kept in the repository and those made at test time."""
    kept = {path.name: path.read_bytes() for path in BAD.iterdir() if path.suffix != ".py"}
    del kept["expected.json"]
    return {**kept, **make_corpus.files()}


def case_id(case: dict) -> str:
    return case["file"] + (" mapped by hand" if "mapping" in case else "")


def as_text(values: list) -> list[str | None]:
    """Loaded values as the table in expected.json writes them: dates ISO, amounts "1000.00"."""
    return [None if value is None else str(value) for value in values]


def test_every_bad_file_has_an_expected_outcome(corpus):
    assert {case["file"] for case in CASES} == set(corpus)
    assert len(corpus) >= 30


def refused(case: dict, load) -> None:
    with pytest.raises(LoadError) as error:
        load()
    message = str(error.value)
    for words in case["error"]:
        assert words in message


@pytest.mark.timeout(SECONDS_PER_FILE)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_bad_file_ends_in_a_clear_message_or_a_counted_partial_load(case, corpus):
    data, name = corpus[case["file"]], case["file"]
    loader = case.get("loader", "opportunities")
    if loader == "targets":
        load = lambda: load_targets(data, name, SETTINGS)  # noqa: E731
    elif loader == "reps":
        load = lambda: load_reps(data, name)  # noqa: E731
    else:
        load = lambda: load_opportunities(data, name, case.get("mapping"))  # noqa: E731
    if "error" in case:
        refused(case, load)
    elif loader == "targets":
        loaded = load()
        report = loaded.report
        assert (report.rows_read, report.targets_loaded) == (
            case["rows_read"],
            case["targets_loaded"],
        )
        assert report.rejected == case["rejected"]
        for field, values in case["cells"].items():
            assert loaded.targets.column(field).to_pylist() == values
    elif loader == "reps":
        loaded = load()
        assert (loaded.rows_read, loaded.skipped_blank_owner) == (
            case["rows_read"],
            case["skipped_blank_owner"],
        )
        for field, values in case["cells"].items():
            assert loaded.reps.column(field).to_pylist() == values
    else:
        loaded = load()
        report = loaded.report
        assert (report.rows_read, report.rows_loaded) == (case["rows_read"], case["rows_loaded"])
        assert report.rejected == case["rejected"]
        assert {key: cells.count for key, cells in report.unreadable.items()} == case["unreadable"]
        for field, values in case.get("cells", {}).items():
            assert as_text(loaded.deals.column(field).to_pylist()) == values
        for field, lengths in case.get("cell_lengths", {}).items():
            assert [len(text) for text in loaded.deals.column(field).to_pylist()] == lengths
        for field, reading in case.get("date_readings", {}).items():
            read = report.date_readings[field]
            assert {"format": read.format, "ambiguous": read.ambiguous} == reading
        for attribute in ("encoding", "sheet", "headers"):
            if attribute in case:
                assert getattr(report, attribute) == (
                    tuple(case[attribute]) if attribute == "headers" else case[attribute]
                )


FILE_REFUSALS = [case for case in CASES if case.get("every_loader")]


@pytest.mark.timeout(SECONDS_PER_FILE)
@pytest.mark.parametrize("loader", ["targets", "reps"])
@pytest.mark.parametrize("case", FILE_REFUSALS, ids=case_id)
def test_a_file_no_loader_can_read_gets_the_same_message_as_a_quota_or_reps_file(
    case, loader, corpus
):
    data, name = corpus[case["file"]], case["file"]
    if loader == "targets":
        refused(case, lambda: load_targets(data, name, SETTINGS))
    else:
        refused(case, lambda: load_reps(data, name))
