"""`python -m lib.cli forecast`: the issue's JSON on the hand-worked deals of test_forecast.py,
a saved snapshot read from --db, mixed currencies, and a plain refusal."""

import json

import pytest

from lib import store
from lib.cli import main
from tests.test_forecast import DEALS, HEADER, csv_of, snapshot


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "deals.csv"
    path.write_bytes(csv_of(DEALS))
    return str(path)


def printed(capsys, *args: str) -> dict:
    assert main(["forecast", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_forecast_prints_each_method_with_its_backtest(export, tmp_path, capsys):
    answer = printed(capsys, "--opportunities", export, "--as-of", "2026-05-10",
                     "--db", str(tmp_path / "none.duckdb"), "--json")  # fmt: skip
    assert (answer["as_of"], answer["period"]["label"], answer["currency"]) == (
        "2026-05-10", "Q2 FY2026", None
    )  # fmt: skip
    methods = {method["method"]: method for method in answer["methods"]}
    assert list(methods) == ["run_rate", "weighted", "commit", "best_case", "history"]
    assert methods["weighted"]["projection"] == pytest.approx(660)
    # No snapshot and no OpportunityHistory: the past pipeline's probabilities are unknown.
    assert [row["projected"] for row in methods["weighted"]["backtest"]] == [None] * 3
    assert (methods["weighted"]["mean_abs_error"], methods["weighted"]["bias"]) == (None, None)
    assert methods["history"]["projection"] == pytest.approx(2450 / 3)
    assert methods["history"]["backtest"] == [
        {"period": "Q1 FY2026", "as_of": "2026-02-09", "projected": 575.0, "actual": 800.0},
        {"period": "Q4 FY2025", "as_of": "2025-11-09", "projected": 550.0, "actual": 400.0},
        {"period": "Q3 FY2025", "as_of": "2025-08-09", "projected": None, "actual": 350.0},
    ]
    assert methods["history"]["mean_abs_error"] == pytest.approx((225 / 800 + 150 / 400) / 2)
    assert answer["most_accurate"] == "history"
    assert answer["backtest_note"].startswith("3 of the 6 quarters asked for are backtested")


def test_forecast_reads_a_saved_snapshot_from_the_store(export, tmp_path, capsys):
    db = tmp_path / "closeboard.duckdb"
    store.save_snapshot(snapshot(), db)
    answer = printed(capsys, "--opportunities", export, "--as-of", "2026-05-10", "--db", str(db),
                     "--quarters", "1")  # fmt: skip
    weighted = next(m for m in answer["methods"] if m["method"] == "weighted")
    assert weighted["backtest"] == [
        {"period": "Q1 FY2026", "as_of": "2026-02-09", "projected": 550.0, "actual": 800.0}
    ]
    assert answer["most_accurate"] == "best_case"
    assert answer["backtest_note"] is None


def test_an_export_mixing_currencies_without_rates_adds_none_of_them_up(tmp_path, capsys):
    rows = [f"{key},{row},{'EUR' if key == 'c1' else 'USD'}" for key, row in DEALS.items()]
    path = tmp_path / "mixed.csv"
    path.write_text(HEADER.strip() + ",Currency\n" + "\n".join(rows) + "\n")
    answer = printed(capsys, "--opportunities", str(path), "--as-of", "2026-05-10",
                     "--db", str(tmp_path / "none.duckdb"))  # fmt: skip
    assert (answer["currency"], answer["methods"], answer["most_accurate"]) == (None, None, None)
    assert answer["currencies_without_rate"] == ["EUR"]
    usd = answer["by_currency"]["USD"]
    assert usd["currency"] == "USD"
    # Without c1's 400, Q1 booked 400 in dollars.
    history = next(m for m in usd["methods"] if m["method"] == "history")
    assert history["backtest"][0]["actual"] == 400.0


def test_a_number_of_quarters_below_one_is_refused_plainly(export, capsys):
    assert main(["forecast", "--opportunities", export, "--quarters", "0"]) == 2
    assert capsys.readouterr().err.strip() == (
        "--quarters takes a number of quarters from 1 up, not 0."
    )
