"""Tests for lib.load.zip_export: the hand-built Data Export of tests/salesforce_export.py, a ZIP
without User.csv, zip bombs, a path-traversal member, and several CSVs uploaded at once."""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from lib.cli import main
from lib.db import open_database
from lib.deal_history import changes_of_deal, deals_with_history
from lib.load.errors import LoadError
from lib.load.opportunities import LoadedExport, load_opportunities
from lib.load.targets import load_quota_rows
from lib.load.zip_export import (
    ZipLimits,
    bundle,
    history_push_counts,
    is_data_export,
    read_data_export,
)
from lib.settings import Settings
from tests import salesforce_export as sf
from tests.data.bad.make_corpus import zip_of

AS_OF = date.fromisoformat(sf.AS_OF)


@pytest.fixture(scope="module")
def export() -> LoadedExport:
    return load_opportunities(sf.full_export(), "WE_00D5g000000_1.ZIP")


def by_id(loaded: LoadedExport, column: str) -> dict[str, object]:
    return {d["opportunity_id"]: d[column] for d in loaded.deals.to_pylist()}


def pushes(loaded: LoadedExport, as_of: date) -> dict[str, int]:
    counts = history_push_counts(loaded.export_files.history, loaded.deals, as_of)
    return {row["opportunity_id"]: row["pushes"] for row in counts.to_pylist()}


def test_owners_managers_teams_and_accounts_are_named_from_the_files_beside_the_deals(export):
    assert by_id(export, "owner") == {
        sf.O1: "Ana García", sf.O2: "Ana García", sf.O3: "Ben Okafor", sf.O4: "Ben Okafor",
        sf.O6: "Ben Okafor",
    }  # fmt: skip
    assert set(by_id(export, "manager").values()) == {"Maria Schäfer"}
    assert set(by_id(export, "team").values()) == {"Ventas Iberia"}
    assert by_id(export, "account") == {
        sf.O1: "Acme S.A.", sf.O2: "Birch Ñandú", sf.O3: "Acme S.A.", sf.O4: "Birch Ñandú",
        sf.O6: None,
    }  # fmt: skip


def test_deleted_rows_are_left_out_and_counted(export):
    assert (export.report.rows_read, export.report.rows_loaded) == (6, 5)
    assert export.report.rejected == {"deleted in the CRM (IsDeleted = 1)": 1}
    assert sf.O5 not in by_id(export, "owner")


def test_status_comes_from_is_won_and_is_closed_whatever_the_stage_is_called(export):
    assert by_id(export, "status") == {
        sf.O1: "open", sf.O2: "open", sf.O3: "won", sf.O4: "lost", sf.O6: "open"
    }  # fmt: skip
    assert by_id(export, "close_date")[sf.O1] == date(2026, 11, 30)


def test_amounts_are_converted_into_the_corporate_currency_with_currency_type_rates(export):
    files = export.export_files
    assert export.report.display_currency == "USD"
    assert files.rates == {"USD": 1.0, "EUR": 1.25, "GBP": 2.0}
    con = open_database(export.deals, rates=files.rates)
    totals = dict(con.sql("SELECT status, sum(amount) FROM opportunities GROUP BY ALL").fetchall())
    assert totals == {
        "open": Decimal(sf.OPEN_PIPELINE_USD), "won": Decimal(sf.WON_USD),
        "lost": Decimal(sf.LOST_USD),
    }  # fmt: skip


def test_close_date_pushes_come_from_opportunity_history_up_to_the_as_of_date(export):
    assert pushes(export, AS_OF) == sf.PUSHES
    assert pushes(export, date(2026, 11, 5)) == sf.PUSHES_AS_OF_5_NOV


def test_pushes_flag_deals_whose_close_date_keeps_moving_as_snapshot_pushes_do(export):
    counts = history_push_counts(export.export_files.history, export.deals, AS_OF)
    row = counts.to_pylist()[0]
    assert list(row) == [
        "opportunity_id", "name", "account", "owner", "status", "pushes", "first_close_date",
        "close_date",
    ]  # fmt: skip
    assert (row["opportunity_id"], row["first_close_date"], row["close_date"]) == (
        sf.O1, date(2026, 9, 30), date(2026, 11, 30)
    )  # fmt: skip


def test_the_history_names_its_regressions_and_amount_changes(export):
    files = export.export_files
    used = {file.file: file.taken for file in files.files_used}
    assert used["OpportunityHistory.csv"] == sf.HISTORY_SUMMARY
    o2 = changes_of_deal(files.history, sf.O2, "USD")
    assert list(o2["What changed"]) == [
        "first record",
        "stage Negociación → Prospección (back); amount $5K → $4K",
        "close date pulled in 15 Dec 2026 → 1 Dec 2026",
    ]
    o3 = changes_of_deal(files.history, sf.O3, "GBP")
    assert list(o3["What changed"])[-1] == (
        "close date moved later (the deal was closed) 30 Sep 2026 → 20 Oct 2026; "
        "stage Negociación → Cerrada ganada"
    )


def test_deals_with_history_lists_the_most_pushed_first_and_not_deleted_deals(export):
    table = deals_with_history(export.export_files.history, export.deals)
    assert list(table["Opportunity ID"]) == [sf.O1, sf.O6, sf.O2, sf.O3]
    assert list(table["Close-date pushes"]) == [2, 2, 0, 0]
    assert list(table["Stage regressions"]) == [0, 0, 1, 0]


def test_the_fiscal_year_and_quotas_come_from_the_export(export):
    files = export.export_files
    assert (files.fiscal_start_month, files.fiscal_named_by_end) == (2, True)
    settings = Settings(AS_OF, files.fiscal_start_month, files.fiscal_named_by_end)
    quotas = load_quota_rows(files.quotas, "ForecastingQuota.csv", settings).targets.to_pylist()
    assert [(q["owner"], q["period_label"], q["amount"]) for q in quotas] == [
        ("Ana García", "Q4 FY2027", 30000.0),
        ("Ben Okafor", "Q4 FY2027", 20000.0),
    ]


def test_the_data_page_list_says_which_files_were_used_and_what_was_taken(export):
    files = export.export_files
    assert [(file.file, file.taken) for file in files.files_used] == [
        ("Opportunity.csv", "6 opportunities (1 deleted: left out)"),
        ("User.csv", "names of 3 users, and their managers"),
        ("UserRole.csv", "2 role names, as teams"),
        ("Account.csv", "2 account names"),
        ("CurrencyType.csv", "3 conversion rates into USD"),
        ("FiscalYearSettings.csv", "fiscal year starting in February, named by the year it ends"),
        ("ForecastingQuota.csv", "2 quotas"),
        ("OpportunityHistory.csv", sf.HISTORY_SUMMARY),
    ]
    assert files.not_used == ("1 other file (not CSV), not opened",)
    assert files.not_used_count == 1


def test_without_user_csv_owners_show_as_their_ids():
    loaded = load_opportunities(sf.export_without("User.csv"), "WE_1.zip")
    assert loaded.export_files.owners_named is False
    assert set(by_id(loaded, "owner").values()) == {sf.ANA, sf.BEN}
    assert set(by_id(loaded, "manager").values()) == {None}
    assert "UserRole.csv (nothing Closeboard could use)" in loaded.export_files.not_used
    assert pushes(loaded, AS_OF) == sf.PUSHES


def test_user_csv_uploaded_beside_a_zip_without_it_names_the_owners():
    name, packed = bundle(
        [("WE_1.zip", sf.export_without("User.csv")), ("User.csv", sf.FILES["User.csv"])]
    )
    loaded = load_opportunities(packed, name)
    assert name == "WE_1.zip and 1 more files"
    assert set(by_id(loaded, "owner").values()) == {"Ana García", "Ben Okafor"}


def test_several_csvs_of_the_export_uploaded_at_once_load_as_the_zip_does(export):
    name, packed = bundle(list(sf.FILES.items()))
    loaded = load_opportunities(packed, name)
    assert name == "Opportunity.csv and 7 more files"
    assert loaded.deals.equals(export.deals)
    assert pushes(loaded, AS_OF) == sf.PUSHES
    assert bundle(list(sf.FILES.items())) == (name, packed)  # the same bytes: one cache entry


def test_files_that_are_not_parts_of_a_data_export_are_not_bundled():
    assert bundle([("deals.csv", b"a,b\n1,2\n"), ("Opportunity.csv", b"a,b\n1,2\n")]) is None


def test_a_zip_without_opportunity_csv_says_what_to_include():
    with pytest.raises(LoadError) as error:
        load_opportunities(zip_of({"User.csv": sf.FILES["User.csv"]}), "WE_1.zip")
    assert str(error.value).startswith("WE_1.zip has no Opportunity.csv (found: User.csv).")


def test_an_excel_workbook_is_not_taken_for_a_data_export():
    packed = zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
    assert not is_data_export(packed, "deals")
    assert not is_data_export(zip_of({"Opportunity.csv": b"Id\n1\n"}), "export.xlsx")
    assert is_data_export(zip_of({"Opportunity.csv": b"Id\n1\n"}), "Opportunity.csv and 1 more")


def test_a_zip_bomb_is_refused_from_its_central_directory_before_it_is_inflated():
    bomb = zip_of({"Opportunity.csv": b"Id,Name\r\n" + b"0" * 20_000_000})
    with pytest.raises(LoadError) as error:
        read_data_export(bomb, "WE_1.zip")
    assert str(error.value).startswith(
        "Opportunity.csv in WE_1.zip would expand from 0.0 MB to 20.0 MB"
    )
    assert str(error.value).endswith("no export compresses that well. It was not opened.")


def lying_about_its_size(content: bytes, claimed: int) -> bytes:
    """A ZIP whose one member says, in both its headers, that it inflates to `claimed` bytes."""
    data = bytearray(zip_of({"Opportunity.csv": content}))
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    data[local + 22 : local + 26] = claimed.to_bytes(4, "little")
    data[central + 24 : central + 28] = claimed.to_bytes(4, "little")
    return bytes(data)


def test_a_member_that_inflates_past_its_declared_size_is_stopped_while_reading():
    content = b"Id,Name\r\n" + b"1,Acme\r\n" * 500_000
    with pytest.raises(LoadError) as error:
        read_data_export(lying_about_its_size(content, 1_000), "WE_1.zip")
    assert "Opportunity.csv in WE_1.zip does not match what the archive says of it" in str(
        error.value
    )


def test_the_total_size_of_the_csvs_is_bounded():
    with pytest.raises(LoadError) as error:
        read_data_export(sf.full_export(), "WE_1.zip", ZipLimits(csv_bytes=2_000))
    assert "WE_1.zip would expand to" in str(error.value)
    assert "it was not opened" in str(error.value)


def test_the_number_of_members_is_bounded():
    with pytest.raises(LoadError) as error:
        read_data_export(sf.full_export(), "WE_1.zip", ZipLimits(members=5))
    assert str(error.value).startswith("WE_1.zip lists 9 files; a Data Export has far fewer")


def test_a_member_named_to_escape_the_folder_is_neither_read_nor_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    escaping = "../escaped/Opportunity.csv"
    packed = zip_of(
        {escaping: sf.FILES["Opportunity.csv"], "Opportunity.csv": sf.FILES["Opportunity.csv"]}
    )
    loaded = load_opportunities(packed, "WE_1.zip")
    assert loaded.report.rows_loaded == 5
    assert loaded.export_files.not_used == (f"{escaping} (a name that points outside the archive)",)
    assert not (tmp_path.parent / "escaped").exists()
    assert os.listdir(tmp_path) == []
    with pytest.raises(LoadError) as error:
        load_opportunities(zip_of({escaping: sf.FILES["Opportunity.csv"]}), "WE_2.zip")
    assert "WE_2.zip has no Opportunity.csv" in str(error.value)


def test_cli_inspect_of_the_zip_adds_the_files_used(tmp_path: Path, capsys):
    path = tmp_path / "WE_1.zip"
    path.write_bytes(sf.full_export())
    assert main(["inspect", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["files_used"][0] == {
        "file": "Opportunity.csv", "taken": "6 opportunities (1 deleted: left out)"
    }  # fmt: skip
    assert (printed["rows_loaded"], printed["amount_open"], printed["amount_won"]) == (
        5, sf.OPEN_PIPELINE_USD, sf.WON_USD
    )  # fmt: skip
    assert printed["display_currency"] == "USD"


def test_cli_report_of_the_zip_uses_its_quotas_fiscal_year_rates_and_pushes(tmp_path, capsys):
    path = tmp_path / "WE_1.zip"
    path.write_bytes(sf.full_export())
    assert main(["report", "--opportunities", str(path), "--as-of", sf.AS_OF]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["currency"], printed["period"]["label"]) == ("USD", "Q4 FY2027")
    assert printed["pacing"]["team"]["budget"] == 50_000
    # Weighted: 12,500 × 0.9 + 4,000 × 0.1 + 6,250 × 0.1 = 12,275 (all close in Nov–Jan).
    assert printed["pacing"]["team"]["projection_weighted"] == 12_275
    pushed = [w for w in printed["warnings"] if w["kind"] == "pushed"]
    assert [(w["owner"], w["opportunity_ids"]) for w in pushed] == [
        ("Ana García", [sf.O1]), ("Ben Okafor", [sf.O6])
    ]  # fmt: skip


def test_an_older_history_without_prev_close_date_counts_pushes_from_the_row_before():
    kept = [i for i, name in enumerate(sf.HISTORY_HEADER) if not name.startswith("Prev")]
    older = sf.csv_text(
        [sf.HISTORY_HEADER[i] for i in kept], [[row[i] for i in kept] for row in sf.HISTORY_ROWS]
    )
    files = {**sf.FILES, "OpportunityHistory.csv": older}
    loaded = load_opportunities(zip_of(files), "WE_1.zip")
    # O6's first row has no row before it: its move from 15 Dec is not seen, so one push less.
    assert pushes(loaded, AS_OF) == {sf.O1: 2, sf.O6: 1}


def test_the_fiscal_year_comes_from_period_csv_without_fiscal_year_settings():
    period = sf.csv_text(
        ["Id", "Type", "StartDate", "EndDate", "Number"],
        [["026x1", "Year", "2025-10-01", "2026-09-30", "1"],
         ["026x2", "Quarter", "2025-10-01", "2025-12-31", "1"],
         ["026x3", "Year", "2026-10-01", "2027-09-30", "1"]],
    )  # fmt: skip
    files = {**sf.FILES, "Period.csv": period}
    del files["FiscalYearSettings.csv"]
    loaded = load_opportunities(zip_of(files), "WE_1.zip")
    assert (loaded.export_files.fiscal_start_month, loaded.export_files.fiscal_named_by_end) == (
        10, True
    )  # fmt: skip


def test_the_history_keeps_probability_and_forecast_category_when_the_export_has_them(export):
    # Salesforce writes Probability in percent and ForecastCategory as its API value.
    kept = {0: ("10", "Pipeline"), 1: ("90", "Forecast"), 3: ("60", "BestCase")}
    rows = [[*row, *kept.get(i, ("", ""))] for i, row in enumerate(sf.HISTORY_ROWS)]
    header = [*sf.HISTORY_HEADER, "Probability", "ForecastCategory"]
    files = {**sf.FILES, "OpportunityHistory.csv": sf.csv_text(header, rows)}
    history = load_opportunities(zip_of(files), "WE_1.zip").export_files.history
    read = {
        (change["opportunity_id"], change["changed_on"]): (
            change["probability"], change["forecast_category"])
        for change in history.to_pylist()
    }  # fmt: skip
    assert read[(sf.O1, date(2026, 8, 1))] == (0.1, "Pipeline")
    assert read[(sf.O1, date(2026, 9, 20))] == (0.9, "Commit")
    assert read[(sf.O2, date(2026, 9, 1))] == (0.6, "Best Case")
    assert read[(sf.O3, date(2026, 9, 1))] == (None, None)
    # Without the columns, nothing of them is known.
    assert set(export.export_files.history["probability"].to_pylist()) == {None}
