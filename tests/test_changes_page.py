"""The "What changed since last week?" page: save, replace, delete and compare snapshots."""

import csv
import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
from streamlit.testing.v1 import AppTest

from lib.changes import compare, push_counts
from lib.format import money
from lib.load.opportunities import load_opportunities
from lib.settings import Settings
from lib.store import (
    close_date_history,
    list_snapshots,
    read_snapshot,
    save_snapshot,
    snapshot_of_export,
)

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SAMPLE = ROOT / "sample_data" / "opportunities.csv"
SAMPLE_DATE = date(2026, 11, 20)
LAST_WEEK = SAMPLE_DATE - timedelta(days=7)
TWO_WEEKS_AGO = SAMPLE_DATE - timedelta(days=14)


def sample_rows() -> tuple[list[str], list[dict]]:
    text = SAMPLE.read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text[: text.index("\n\n")]))
    return list(reader.fieldnames), list(reader)


def day(cell: str) -> date:
    return datetime.strptime(cell, "%m/%d/%Y").date()


def cell(value: date) -> str:
    return f"{value.month}/{value.day}/{value.year}"


def late_stage_due(rows: list[dict]) -> list[dict]:
    """Open deals at 60 % or more due on or before the sample date: the close-today list."""
    return [
        row for row in rows
        if not row["Stage"].startswith("Closed") and int(row["Probability (%)"]) >= 60
        and day(row["Close Date"]) <= SAMPLE_DATE
    ]  # fmt: skip


def pushed_every_week(rows: list[dict]) -> list[dict]:
    """Three deals on the close-today list that were already there two weeks earlier."""
    return [row for row in late_stage_due(rows) if day(row["Created Date"]) <= TWO_WEEKS_AGO][:3]


def earlier_export(weeks_back: int) -> str:
    """The sample as it might have been exported `weeks_back` weeks before 20 Nov 2026.

    Deals created since then are not in it; deals won or lost since were open, in Negotiation,
    closing 30 Nov; every 5th deal now closing in Q1 was closing 15 Dec; every 6th open deal
    of Q4 was 10 % larger; every 9th open deal now before Negotiation was in Negotiation; two
    deals since deleted were there; and the first three deals on the close-today list were due
    a week earlier for each week back (so they have been pushed every week since).
    """
    headers, rows = sample_rows()
    since = SAMPLE_DATE - timedelta(weeks=weeks_back)
    pushed = {row["Opportunity ID"] for row in pushed_every_week(rows)}
    older = []
    for index, row in enumerate(rows):
        row = dict(row)
        if day(row["Created Date"]) > since:
            continue
        closed = row["Stage"].startswith("Closed")
        close = day(row["Close Date"])
        if closed and close > since:
            row.update({"Stage": "Negotiation/Review", "Probability (%)": "90",
                        "Close Date": cell(date(2026, 11, 30))})  # fmt: skip
        elif not closed:
            if row["Opportunity ID"] in pushed:
                row["Close Date"] = cell(close - timedelta(weeks=weeks_back))
            elif close >= date(2027, 1, 1) and index % 5 == 0:
                row["Close Date"] = cell(date(2026, 12, 15))
            elif close <= date(2026, 12, 31) and index % 6 == 0:
                amount = float(row["Amount"].replace("$", "").replace(",", ""))
                row["Amount"] = f"${amount * 1.1:,.2f}"
            elif int(row["Probability (%)"]) < 90 and index % 9 == 0:
                row.update({"Stage": "Negotiation/Review", "Probability (%)": "90"})
        older.append(row)
    for number in (1, 2):
        older.append({**rows[0], "Opportunity ID": f"006DELETED{number}", "Stage": "Prospecting",
                      "Opportunity Name": f"Deleted deal {number}", "Probability (%)": "10",
                      "Amount": "$5,000.00", "Close Date": cell(date(2026, 12, 10))})  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, headers, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writeheader()
    writer.writerows(older)
    return out.getvalue()


def save_history(path: Path) -> None:
    """Snapshots of 6 and 13 Nov, as the sample would have been exported then."""
    for weeks_back, as_of in ((2, TWO_WEEKS_AGO), (1, LAST_WEEK)):
        export = load_opportunities(earlier_export(weeks_back).encode(), f"{as_of}.csv")
        save_snapshot(snapshot_of_export(export, as_of), path)


def unescaped(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def open_changes_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/changes.py").run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_without_snapshots_the_page_offers_to_save_the_first(snapshot_store):
    at = open_changes_page()
    assert at.title[0].value == "What changed since last week?"
    assert "No snapshot yet" in at.info[0].value
    assert not snapshot_store.exists()


def test_saving_the_upload_lists_it_and_a_second_save_asks_before_replacing(snapshot_store):
    at = open_changes_page()
    assert at.date_input[0].value == SAMPLE_DATE
    button(at, "Save as snapshot").click().run()
    assert at.success[0].value == "Saved 4,459 deals as the snapshot of Fri 20 Nov 2026."
    assert [(e["as_of"], e["deals"]) for e in list_snapshots(snapshot_store)] == [
        (SAMPLE_DATE, 4459)
    ]
    first_saved = list_snapshots(snapshot_store)[0]["saved_at"]

    button(at, "Save as snapshot").click().run()
    assert at.warning[0].value.startswith("There is already a snapshot of Fri 20 Nov 2026")
    button(at, "Keep the saved one").click().run()
    assert not at.warning
    assert list_snapshots(snapshot_store)[0]["saved_at"] == first_saved

    at.date_input[0].set_value(LAST_WEEK).run()
    button(at, "Save as snapshot").click().run()
    assert at.success[0].value == "Saved 4,459 deals as the snapshot of Fri 13 Nov 2026."
    at.date_input[0].set_value(LAST_WEEK).run()
    button(at, "Save as snapshot").click().run()
    button(at, "Replace it").click().run()
    assert at.success[0].value == "Saved 4,459 deals as the snapshot of Fri 13 Nov 2026."
    assert [e["as_of"] for e in list_snapshots(snapshot_store)] == [LAST_WEEK, SAMPLE_DATE]


def test_a_snapshot_is_deleted_from_the_list(snapshot_store):
    save_history(snapshot_store)
    at = open_changes_page()
    doomed = next(s for s in at.selectbox if s.label == "Snapshot to delete")
    doomed.set_value(TWO_WEEKS_AGO).run()
    button(at, "Delete the snapshot of Fri 6 Nov 2026").click().run()
    assert at.success[0].value == "Deleted the snapshot of Fri 6 Nov 2026."
    assert [e["as_of"] for e in list_snapshots(snapshot_store)] == [LAST_WEEK]


def test_the_two_newest_snapshots_are_compared_by_default(snapshot_store):
    save_history(snapshot_store)
    at = open_changes_page()
    compared = [s.value for s in at.selectbox if s.label in ("Compare", "with")]
    assert compared == [TWO_WEEKS_AGO, LAST_WEEK]
    expected = compare(
        read_snapshot(TWO_WEEKS_AGO, snapshot_store),
        read_snapshot(LAST_WEEK, snapshot_store),
        Settings(as_of=SAMPLE_DATE),
    )
    assert expected.waterfall.reconciles
    assert metrics(at) == {
        "Pipeline on 6 Nov": money(expected.waterfall.start),
        "Change": money(expected.waterfall.net),
        "Pipeline on 13 Nov": money(expected.waterfall.end),
    }
    assert len(at.get("plotly_chart")) == 1


def test_this_upload_against_last_weeks_snapshot_shows_every_movement(snapshot_store):
    save_history(snapshot_store)
    at = open_changes_page()
    next(s for s in at.selectbox if s.label == "Compare").set_value(LAST_WEEK)
    next(s for s in at.selectbox if s.label == "with").set_value("this upload").run()
    assert not at.exception
    last_week = read_snapshot(LAST_WEEK, snapshot_store)
    upload = snapshot_of_export(
        load_opportunities(SAMPLE.read_bytes(), "opportunities.csv"), SAMPLE_DATE
    )
    expected = compare(last_week, upload, Settings(as_of=SAMPLE_DATE))
    w = expected.waterfall
    # Every bucket moved in this week of the sample.
    assert all((w.new, w.pushed_out, w.won, w.lost, w.removed, w.decreased))
    assert metrics(at)["Pipeline on 20 Nov"] == money(w.end)
    changed = next(frame.value for frame in at.dataframe if "What changed" in frame.value.columns)
    assert len(changed) == len(expected.deals)
    assert set(changed["Opportunity ID"]) >= {"006DELETED1", "006DELETED2"}
    regressed = expected.regressions
    assert regressed
    # Pushes over 6, 13 and 20 Nov: the three deals pushed every week, twice each.
    pushed = next(frame.value for frame in at.dataframe if "Pushes" in frame.value.columns)
    history = close_date_history(SAMPLE_DATE, snapshot_store, unsaved=[upload])
    assert len(pushed) == push_counts(history).num_rows
    twice = pushed[pushed["Pushes"] >= 2]
    _, rows = sample_rows()
    assert sorted(twice["Opportunity ID"]) == sorted(
        row["Opportunity ID"] for row in pushed_every_week(rows)
    )


def test_deals_pushed_twice_are_flagged_on_the_close_today_list(snapshot_store):
    save_history(snapshot_store)
    _, rows = sample_rows()
    pushed = {row["Opportunity Name"] for row in pushed_every_week(rows)}
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/close_today.py").run()
    # Two of them are overdue by more than 30 days: flagged in the stale list below the other.
    tables = [frame.value for frame in at.dataframe if "Flags" in frame.value.columns]
    flagged = {
        deal
        for table in tables
        for deal in table[table["Flags"].str.contains("close date pushed 2 times")]["Deal"]
    }
    assert flagged == pushed


def test_deals_pushed_twice_are_a_close_date_keeps_moving_warning(snapshot_store):
    save_history(snapshot_store)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/pipeline_warnings.py").run()
    # The page lists the first 40 warnings of the whole team: ask for the pushed ones.
    at.multiselect[0].set_value(["pushed"]).run()
    said = [unescaped(element.value) for element in (*at.error, *at.warning)]
    pushed = [message for message in said if "close date pushed 2 times or more" in message]
    assert pushed
    assert all(message.startswith("**Close date keeps moving** · ") for message in pushed)
    _, rows = sample_rows()
    for row in pushed_every_week(rows):
        assert any(row["Opportunity Name"] in message for message in pushed)


def test_a_corrupt_store_is_named_and_left_alone(snapshot_store):
    junk = b"not a database" * 100
    snapshot_store.write_bytes(junk)
    at = open_changes_page()
    # Named by its file name: the folder is the server's business (the CLI says it).
    shown = unescaped(at.error[0].value)
    assert snapshot_store.name in shown
    assert str(snapshot_store.parent) not in shown
    assert "not a valid DuckDB database file" in at.error[0].value
    assert snapshot_store.read_bytes() == junk


def page_text(at: AppTest) -> str:
    parts = [*at.caption, *at.markdown, *at.error, *at.info, *at.warning, *at.success]
    return " ".join(unescaped(part.value) for part in parts)


def test_the_page_says_snapshots_are_kept_on_this_computer_not_where_on_disk(snapshot_store):
    at = open_changes_page()
    button(at, "Save as snapshot").click().run()
    assert "Kept on this computer." in [caption.value for caption in at.caption]
    shown = page_text(at)
    assert str(snapshot_store.parent) not in shown
    assert "CLOSEBOARD_" not in shown
    assert ".duckdb" not in shown


def test_another_programs_database_is_refused_without_server_settings(snapshot_store):
    con = duckdb.connect(str(snapshot_store))
    con.execute("CREATE TABLE invoices AS SELECT 1 AS id")
    con.close()
    at = open_changes_page()
    assert unescaped(at.error[0].value) == (
        "closeboard.duckdb is a DuckDB database but not a Closeboard snapshot store (it holds "
        "invoices). Closeboard leaves it as it is."
    )
