"""The QBR's files: a ZIP of one CSV per table and one HTML file, escaped and self-contained;
and `python -m lib.cli qbr`. Figures from the hand-worked table of tests/test_qbr.py."""

import csv
import io
import json
import re
import zipfile

from lib.cli import main
from lib.qbr import qbr
from lib.qbr_files import csv_zip, figures, qbr_html, tables
from tests.test_qbr import DEALS, SETTINGS, TARGETS, database, q3, quarter

HOSTILE = DEALS.replace(b"Acme expansion,Acme,Ann", b"<script>alert(1)</script>,=HYPERLINK(1),Ann")


def csv_rows(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    text = archive.read(f"qbr-q3-fy2026/{name}.csv").decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_zip_holds_one_csv_per_table_with_the_quarters_figures():
    archive = zipfile.ZipFile(io.BytesIO(csv_zip(q3())))
    assert archive.namelist() == [f"qbr-q3-fy2026/{name}.csv" for name in tables(q3())]
    assert len(archive.namelist()) == 9
    wins = csv_rows(archive, "top-wins")
    assert [(row["Deal"], row["Rep"], row["Amount"]) for row in wins] == [
        ("Acme expansion", "Ann", "5000.0"),
        ("Bolt pilot", "Ann", "3000.0"),
        ("Crane", "Bo", "2000.0"),
    ]
    coverage = csv_rows(archive, "next-quarter-coverage")
    assert [(row["Rep"], row["Budget still to close"]) for row in coverage] == [
        ("Bo", "6000.0"),
        ("Ann", "6000.0"),
    ]
    reasons = csv_rows(archive, "losses-by-reason")
    assert [(row["Loss reason"], row["Deals"], row["Lost amount"]) for row in reasons] == [
        ("Price", "1", "4000.0"),
        ("No reason given", "1", "1000.0"),
    ]


def test_a_formula_in_a_name_is_neutralised_in_the_csv():
    result = qbr(database(HOSTILE), SETTINGS, quarter("2026-Q3"), "USD")
    archive = zipfile.ZipFile(io.BytesIO(csv_zip(result)))
    assert csv_rows(archive, "top-wins")[0]["Account"] == "'=HYPERLINK(1)"


def test_the_html_file_carries_plotly_once_and_asks_for_nothing_outside_itself():
    html = qbr_html(q3(), "USD", "deals.csv")
    assert html.startswith("<!doctype html>")
    assert html.count("plotly.js v") == 1
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    # The pacing, attainment, top wins, largest losses, losses by reason, coverage and pipeline
    # charts.
    assert len(re.findall(r'<div id="chart-', html)) == 7
    assert "Q3 FY2026: $10K booked, 83\u00a0% of budget, +25\u00a0% on last year." in html


def test_the_largest_losses_are_charted_with_their_share_of_all_lost():
    (bar,) = figures(q3(), "USD")["largest_losses"].data
    assert bar.y == ("Delta", "Echo")
    assert bar.text == ("$4K · Ann", "$1K · Bo")
    assert "The 2 largest losses: $5K of $5K lost" in qbr_html(q3(), "USD", "deals.csv")


def test_the_html_file_lists_every_lost_deal_when_there_are_few():
    losses = losses_section(qbr_html(q3(), "USD", "deals.csv"))
    assert "<td>Delta</td>" in losses and "<td>Echo</td>" in losses
    assert "largest of" not in losses


def test_the_html_file_lists_the_25_largest_lost_deals_and_says_how_many_there_are():
    # Besides Delta (4,000) and Echo (1,000), lost deal n (1 to 27) lost n,500: Lost 27 down
    # to Lost 4, then Delta, are the 25 largest of 29.
    lost = "".join(
        f"x{n},Lost {n},Account {n},Ann,Closed Lost,{n * 1000 + 500},2026-08-{n:02d},"
        "2026-06-01,Web,\n"
        for n in range(1, 28)
    )
    result = qbr(database(DEALS + lost.encode()), SETTINGS, quarter("2026-Q3"), "USD")
    losses = losses_section(qbr_html(result, "USD", "deals.csv"))
    listed = re.findall(r"<tr><td>([^<]*)</td>", losses)
    assert listed == [f"Lost {n}" for n in range(27, 3, -1)] + ["Delta"]
    assert "The 25 largest of 29 lost deals; the CSV files hold every one." in losses
    # The ZIP still holds every one.
    assert len(csv_rows(zipfile.ZipFile(io.BytesIO(csv_zip(result))), "losses")) == 29


def losses_section(html: str) -> str:
    losses = html[html.index('<section id="losses">') :]
    return losses[: losses.index("</section>")]


def test_names_from_the_export_are_escaped_in_the_html_file():
    result = qbr(database(HOSTILE), SETTINGS, quarter("2026-Q3"), "USD")
    html = qbr_html(result, "USD", "<b>deals</b>.csv")
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>deals</b>" not in html


def test_the_cli_writes_the_qbr_file_and_prints_its_figures(tmp_path, capsys):
    deals, targets, out = tmp_path / "deals.csv", tmp_path / "quotas.csv", tmp_path / "q3.html"
    deals.write_bytes(DEALS)
    targets.write_bytes(TARGETS)
    code = main(["qbr", "--opportunities", str(deals), "--targets", str(targets),
                 "--as-of", "2026-11-20", "--quarter", "2026-Q3", "--out", str(out)])  # fmt: skip
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["quarter"] == {"label": "Q3 FY2026", "start": "2026-07-01", "end": "2026-09-30"}
    assert (printed["through"], printed["complete"]) == ("2026-09-30", True)
    assert printed["headline"]["booked"] == 10000
    assert printed["headline"]["win_rate"] == 0.6
    assert printed["headline"]["sales_cycle_days"] == 60
    assert [win["opportunity_id"] for win in printed["top_wins"]] == ["w1", "w2", "w3"]
    assert (printed["losses"]["count"], printed["losses"]["amount"]) == (2, 5000)
    assert printed["next_quarter_coverage"]["quarter"] == "Q4 FY2026"
    assert printed["next_quarter_coverage"]["to_close"] == 12000
    assert printed["referrals"]["referral_deals_created"] == 2
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_the_cli_refuses_a_quarter_it_cannot_read_or_that_has_not_started(tmp_path, capsys):
    deals = tmp_path / "deals.csv"
    deals.write_bytes(DEALS)
    common = ["qbr", "--opportunities", str(deals), "--as-of", "2026-11-20", "--out",
              str(tmp_path / "x.html")]  # fmt: skip
    assert main([*common, "--quarter", "third"]) == 2
    assert capsys.readouterr().err.strip() == (
        "third is not a quarter: write it like 2026-Q3 or Q3 FY2026."
    )
    assert main([*common, "--quarter", "Q1 FY2027"]) == 2
    assert capsys.readouterr().err.startswith("Q1 FY2027 has not started by the as-of date")
    assert not (tmp_path / "x.html").exists()
