"""`python -m lib.cli explore` and `query`: the issue's JSON, and plain refusals."""

import json
import subprocess
import sys
from pathlib import Path

from lib.cli import main
from tests import salesforce_export

ROOT = Path(__file__).resolve().parent.parent
EXPORT = str(Path(__file__).parent / "data" / "explore_deals.csv")
DATA = ["--opportunities", EXPORT, "--as-of", "2026-05-15"]


def test_explore_prints_each_cell_and_the_total(capsys):
    code = main(["explore", *DATA, "--deals", "won", "--measure", "amount", "--by", "product",
                 "--split", "close_quarter", "--where", "owner=Ana", "--where", "owner=Ben",
                 "--json"])  # fmt: skip
    assert code == 0
    # Cy's Gizmo (50) is filtered out; Ana's deal 10 was won after the as-of date.
    assert json.loads(capsys.readouterr().out) == {
        "by": "Product", "split": "close_quarter", "measure": "amount", "currency": None,
        "rows": [
            {"by": "Widget", "split": "Q1 FY2026", "value": 100.0},
            {"by": "Widget", "split": "Q2 FY2026", "value": 400.0},
            {"by": "Gadget", "split": "Q1 FY2026", "value": 300.0},
        ],
        "total": 800.0,
    }  # fmt: skip


def test_explore_without_a_split_gives_null_splits(capsys):
    assert main(["explore", *DATA, "--deals", "all", "--measure", "win_rate", "--by", "owner",
                 "--top", "1", "--json"]) == 0  # fmt: skip
    answer = json.loads(capsys.readouterr().out)
    assert answer["rows"] == [
        {"by": "Ana", "split": None, "value": 0.75},
        {"by": "All others", "split": None, "value": 2 / 3},
    ]
    assert answer["total"] == 5 / 7


def test_explore_names_the_dimensions_there_are(capsys):
    assert main(["explore", *DATA, "--by", "region"]) == 2
    error = capsys.readouterr().err
    assert error.startswith('There is no dimension "region". Dimensions: owner, team,')
    assert error.rstrip().endswith("created_year, Product.")


def test_query_prints_columns_and_rows(capsys):
    sql = "SELECT owner, count(*) AS deals, min(close_date) AS first FROM opportunities " \
          "GROUP BY ALL ORDER BY owner"  # fmt: skip
    assert main(["query", *DATA, sql, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "columns": ["owner", "deals", "first"],
        "rows": [["Ana", 4, "2026-01-10"], ["Ben", 3, "2026-04-05"], ["Cy", 3, "2026-03-15"]],
    }


def test_a_refused_query_exits_non_zero_with_the_plain_message():
    finished = subprocess.run(
        [sys.executable, "-m", "lib.cli", "query", *DATA, "COPY opportunities TO 'x.csv'"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert finished.returncode == 1
    assert finished.stdout == ""
    assert finished.stderr.startswith("Only SELECT queries run here (this is COPY)")
    assert not (ROOT / "x.csv").exists()


def test_query_reads_a_data_exports_history_changes(capsys, tmp_path):
    # tests/salesforce_export.py works them out: 11 changes to 5 deals, 5 pushes, 1 regression.
    export = tmp_path / "WE_00D_1.zip"
    export.write_bytes(salesforce_export.full_export())
    sql = "SELECT count(*) AS changes, count(DISTINCT opportunity_id) AS deals, " \
          "count(*) FILTER (pushed) AS pushes, count(*) FILTER (regressed) AS regressions " \
          "FROM history"  # fmt: skip
    assert main(["query", "--opportunities", str(export), sql, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [[11, 5, 5, 1]]
