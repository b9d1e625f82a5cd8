"""The app shell and the Data page, run headless with Streamlit's AppTest."""

import csv
import io
import re
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.format import money
from lib.load.mapping import mapping_to_json
from ui.choices import headers_key

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SAMPLE = ROOT / "sample_data" / "opportunities.csv"

HUBSPOT = (
    b"Record ID,Deal Name,Deal Stage,Amount,Close Date,Deal owner,Create Date\n"
    b"1,A,Closed won,1000,2026-11-02 17:00,Ann,2026-09-01 10:00\n"
    b"2,B,Contract sent,2500.50,2026-11-30 17:00,Ann,2026-10-01 10:00\n"
    b"2,B,Contract sent,2500.50,2026-11-30 17:00,Ann,2026-10-01 10:00\n"
    b"3,C,Closed lost,,2026-10-15 17:00,Bo,2026-08-01 10:00\n"
)
ODD_HEADERS = b"Seller,Phase,Worth,Due\nAnn,Closed Won,10,2026-11-02\nBo,Talking,20,2026-12-01\n"


def table_with(at: AppTest, column: str):
    """The table (or editor) on the page that has this column."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def errors(at: AppTest) -> str:
    """Every error message as the reader sees it (Markdown escapes removed)."""
    return " ".join(re.sub(r"\\(.)", r"\1", e.value) for e in at.error)


def metrics(at: AppTest) -> dict[str, str]:
    """What each metric shows: its value, then its note under it (the deals counted) if any."""
    return {m.label: f"{m.value} · {m.delta}" if m.delta else m.value for m in at.metric}


def run_app(**state) -> AppTest:
    """The app on its Data page, with the given session state set before the first run."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, data: bytes, kind: str = "opportunities") -> AppTest:
    at.file_uploader(key=f"upload_{kind}").upload(name, data, "text/csv")
    at.run()
    assert not at.exception, at.exception
    return at


def upload_as_of(at: AppTest, name: str, data: bytes, as_of: date) -> AppTest:
    """Uploads an export on whichever page `at` shows, then sets the as-of date."""
    upload(at, name, data)
    at.date_input(key="as_of").set_value(as_of).run()
    assert not at.exception, at.exception
    return at


def sample_by_stage() -> dict[str, tuple[int, Decimal]]:
    """Counts and sums of the sample export by stage, read with the csv module alone."""
    text = SAMPLE.read_text(encoding="utf-8")
    body = text[: text.index("\n\n")]
    totals: dict[str, tuple[int, Decimal]] = {}
    for row in csv.DictReader(io.StringIO(body)):
        amount = Decimal(row["Amount"].replace("$", "").replace(",", "") or "0")
        count, total = totals.get(row["Stage"], (0, Decimal(0)))
        totals[row["Stage"]] = (count + 1, total + amount)
    return totals


def test_the_app_opens_on_the_sample_data_as_of_its_export_date():
    at = run_app()
    assert at.title[0].value == "What did we load?"
    assert at.date_input(key="as_of").value == date(2026, 11, 20)
    assert any("Salesforce report" in m.value for m in at.markdown)
    by_stage = sample_by_stage()
    rows = sum(count for count, _ in by_stage.values())
    won_count, won_amount = by_stage["Closed Won"]
    shown = metrics(at)
    assert shown["Rows read"] == f"{rows:,}"
    assert shown["Deals loaded"] == f"{rows:,}"
    assert shown["Rows not loaded"] == "0"
    assert shown["Owners"] == "20"
    assert shown["Won"] == f"{money(float(won_amount))} · {won_count:,} deals"


def test_the_sample_quotas_and_reps_are_shown():
    at = run_app()
    # Owners tab: every rep has a team from the reps file; Quotas tab: the whole team first.
    owners, quotas = table_with(at, "open_amount"), table_with(at, "Q4 FY2026")
    assert owners["team"].notna().all()
    assert set(owners["team"]) == {"East", "West", "Central"}
    assert quotas.index[0] == "Whole team"
    assert "Q4 FY2026" in quotas.columns


def test_an_uploaded_export_replaces_the_sample_for_this_session():
    at = upload(run_app(source="My uploads"), "hubspot.csv", HUBSPOT)
    shown = metrics(at)
    assert (shown["Rows read"], shown["Deals loaded"], shown["Rows not loaded"]) == ("4", "3", "1")
    assert shown["Won"] == "$1K · 1 deal"
    assert any("HubSpot deals" in m.value for m in at.markdown)
    assert at.date_input(key="as_of").value == date(2026, 11, 2)


def test_a_new_upload_is_read_under_a_status_line_that_says_what_it_gave():
    at = upload(run_app(source="My uploads"), "hubspot.csv", HUBSPOT)
    (status,) = at.status
    assert re.fullmatch(r"Read hubspot\\\.csv: 3 deals in \d+\.\d s\.", status.label)
    # Reruns that read nothing new (a filter, a page switch) keep the line as it was.
    at.run()
    assert [line.label for line in at.status] == [status.label]


def test_an_upload_that_cannot_be_read_says_so_in_its_status_line():
    at = upload(run_app(source="My uploads"), "notes.csv", b"just,a\nnote,here\n")
    assert [status.label for status in at.status] == ["notes\\.csv could not be read."]


def test_the_same_bytes_uploaded_under_another_name_are_shown_under_that_name():
    upload(run_app(source="My uploads"), "dana-pipeline.csv", HUBSPOT)
    at = upload(run_app(source="My uploads"), "lee-pipeline.csv", HUBSPOT)
    shown = re.sub(r"\\(.)", r"\1", " ".join(m.value for m in at.markdown))
    assert "lee-pipeline.csv" in shown and "dana-pipeline.csv" not in shown


def test_a_bad_upload_shows_why_and_keeps_the_data_already_loaded():
    at = upload(run_app(source="My uploads"), "hubspot.csv", HUBSPOT)
    at.file_uploader(key="upload_opportunities").set_value(
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "text/csv")
    )
    at.run()
    assert not at.exception
    assert "photo.csv is a PNG image, not a CSV or Excel export of deals." in errors(at)
    assert "Still showing the last export that loaded: hubspot.csv." in errors(at)
    assert metrics(at)["Rows read"] == "4"


def test_an_export_with_unknown_headers_asks_for_the_columns_and_loads_once_picked():
    at = upload(run_app(source="My uploads"), "odd.csv", ODD_HEADERS)
    assert "odd.csv has no column for the owner (the rep)" in errors(at)
    assert at.subheader[0].value == "Pick the columns of odd\\.csv"
    assert not at.metric
    # What the mapping editor stores when the four columns are picked.
    odd_headers = headers_key(("Seller", "Phase", "Worth", "Due"))
    at.session_state["mappings"] = {
        odd_headers: {"owner": "Seller", "stage": "Phase", "amount": "Worth", "close_date": "Due"}
    }
    at.run()
    assert not at.exception
    assert metrics(at)["Deals loaded"] == "2"
    assert metrics(at)["Won"] == "$10 · 1 deal"


def test_a_stage_edit_changes_how_its_deals_count():
    at = upload(run_app(source="My uploads"), "hubspot.csv", HUBSPOT)
    assert metrics(at)["Open"] == "$2.5K · 1 deal"
    key = headers_key(("Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date",
                       "Deal owner", "Create Date"))  # fmt: skip
    at.session_state["stage_edits"] = {
        key: {"Contract sent": {"status": "won", "probability": 1.0, "late": False}}
    }
    at.run()
    assert metrics(at)["Won"] == "$3.5K · 2 deals"
    assert metrics(at)["Open"] == "$0 · 0 deals"


ABANDONED = (
    b"Record ID,Deal Name,Deal Stage,Amount,Close Date,Deal owner,Deal probability\n"
    b"1,A,Closed: abandoned,1000,2026-01-02,Ann,10\n"
    b"2,B,Closed: abandoned,2000,2026-02-02,Ann,10\n"
    b"3,C,Awaiting outcome,500,2026-06-02,Bo,60\n"
)


def test_the_data_page_asks_about_a_stage_named_closed_that_the_export_counts_open():
    at = upload(run_app(source="My uploads"), "portal.csv", ABANDONED)
    assert re.sub(r"\\(.)", r"\1", at.markdown[0].value) == (
        ":material/help: 'Closed: abandoned': 2 deals, $3K, named closed, but Deal probability says open: "
        "count them as lost, or keep them open?"
    )
    assert [button.label for button in at.button][:2] == ["Count them as lost", "Keep them open"]
    assert metrics(at)["Open"] == "$3.5K · 3 deals"
    at.switch_page("pages/pacing.py").run()
    assert (
        at.info[0].value == "A question about a stage waits on the Data page (What did we load?)."
    )


def test_answering_lost_takes_the_stage_out_of_the_open_pipeline_and_is_remembered():
    at = upload(run_app(source="My uploads"), "portal.csv", ABANDONED)
    at.button(key="answer_Closed: abandoned_lost").click().run()
    assert not at.exception
    assert metrics(at)["Open"] == "$500 · 1 deal"
    assert metrics(at)["Lost"] == "$3K · 2 deals"
    assert "Count them as lost" not in [button.label for button in at.button]
    key = headers_key(("Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date",
                       "Deal owner", "Deal probability"))  # fmt: skip
    assert at.session_state["stage_edits"][key]["Closed: abandoned"]["status"] == "lost"


def test_an_answer_in_a_mapping_file_uploaded_with_next_weeks_export_is_applied():
    edit = {"status": "lost", "probability": 0.1, "late": False}
    saved = mapping_to_json({}, (), {"Closed: abandoned": edit})
    at = upload(run_app(source="My uploads"), "portal.csv", ABANDONED)
    at.file_uploader(key="upload_mapping").upload("closeboard-mapping.json", saved.encode())
    at.run()
    assert metrics(at)["Open"] == "$500 · 1 deal"
    assert "Count them as lost" not in [button.label for button in at.button]


@pytest.mark.parametrize("month", [2, 7, 10])
def test_any_fiscal_year_start_renders(month):
    at = run_app(fiscal_start=month)
    assert not at.exception
    assert metrics(at)["Owners"] == "20"


MIXED_CURRENCIES = (
    b"Opportunity Owner,Stage,Amount,Currency,Close Date\n"
    b"Ann,Closed Won,1000,USD,2026-11-02\n"
    b"Ann,Closed Won,2000,EUR,2026-11-03\n"
    b"Bo,Closed Won,500,USD,2026-11-04\n"
)


# A Dutch Salesforce report whose GBP deal is converted into the org's EUR by Salesforce.
CONVERTED_AMOUNTS = (
    b"Opportunity Owner;Stage;Amount Currency;Amount;Amount (converted) Currency;"
    b"Amount (converted);Close Date\r\n"
    b"Jan;Closed Won;EUR;1.000,00;EUR;1.000,00;3-11-2026\r\n"
    b"Jan;Closed Won;GBP;2.000,00;EUR;2.300,00;4-11-2026\r\n"
)


def test_mixed_currencies_ask_for_rates_and_figures_use_them():
    at = upload(run_app(source="My uploads"), "mixed.csv", MIXED_CURRENCIES)
    # Said above every page (ui/notices.py): the euro deal is in no total until it has a rate.
    assert "1 deal in EUR has no rate into USD and is left out" in at.warning[0].value
    assert table_with(at, "Rate")["Currency"].tolist() == ["USD", "EUR"]
    # Euros are not added to dollars, and the card says so.
    assert metrics(at)["Won"] == "$1.5K · 3 deals, 1 not in the amount"
    key = headers_key(("Opportunity Owner", "Stage", "Amount", "Currency", "Close Date"))
    at.session_state["rates"] = {key: {"USD": 1.0, "EUR": 1.5}}
    at.run()
    assert metrics(at)["Won"] == "$4.5K · 3 deals"


def test_a_saved_mapping_uploaded_with_next_weeks_export_is_applied():
    mapping = (
        b'{"closeboard": "column mapping", "version": 1, "fields": '
        b'{"owner": "Seller", "stage": "Phase", "amount": "Worth", "close_date": "Due"}}'
    )
    at = upload(run_app(source="My uploads"), "odd.csv", ODD_HEADERS)
    at.file_uploader(key="upload_mapping").upload("closeboard-mapping.json", mapping)
    at.run()
    assert not at.exception
    assert not at.error
    assert metrics(at)["Deals loaded"] == "2"


def test_a_file_that_is_not_a_mapping_says_so():
    at = upload(run_app(source="My uploads"), "hubspot.csv", HUBSPOT)
    at.file_uploader(key="upload_mapping").upload("notes.json", b'{"hello": 1}')
    at.run()
    assert "That is not a Closeboard column mapping" in errors(at)
    assert metrics(at)["Deals loaded"] == "3"


def test_every_question_page_says_where_to_load_an_export_before_one_is_loaded():
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["source"] = "My uploads"
    at.run()
    for page in ("pages/pacing.py", "pages/pipeline_warnings.py", "pages/coaching.py", "pages/qbr.py",
                 "pages/changes.py", "pages/explore.py"):  # fmt: skip
        at.switch_page(page).run()
        assert not at.exception, page
        assert [info.value for info in at.info] == [
            "Load an opportunities export in the sidebar, or switch to the sample data."
        ], page


def test_the_app_listens_on_this_computer_only_and_reports_nothing_by_default():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "localhost"
    assert config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False


USER_ID_EXPORT = b"""Opportunity ID,Opportunity Owner,Stage,Amount,Close Date
a1,0058a00000MNWtFAAX,Prospecting,1000,2026-12-15
a2,0058a00000MNWtG,Closed Won,500,2026-11-02
a3,Ana Ruiz,Closed Won,700,2026-11-03
"""


def test_owners_shown_as_crm_user_ids_are_said_to_be_ids_until_a_reps_file_names_them():
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["source"] = "My uploads"
    at.run()
    upload(at, "ids.csv", USER_ID_EXPORT)
    notice = [info.value for info in at.info if "CRM user ID" in info.value]
    assert notice == [
        "2 reps show as a CRM user ID (such as 0058a00000MNWtFAAX): the export holds user IDs, "
        "not names. Salesforce's User.csv with it (or the whole Data Export ZIP), or a reps file "
        "with Id and Name columns, gives them their names."
    ]
    reps = b"Id,Name,Team\n0058a00000MNWtFAAX,Bo Chen,East\n0058a00000MNWtG,Cy Diaz,East\n"
    upload(at, "reps.csv", reps, kind="reps")
    assert not [info.value for info in at.info if "CRM user ID" in info.value]


def test_placeholder_dates_are_listed_on_the_data_page_with_their_count():
    export = (
        b"Opportunity Owner,Stage,Amount,Close Date\n"
        b"Ann,Prospecting,100,12/31/9999\n"
        b"Ann,Prospecting,200,11/20/2026\n"
        b"Bo,Prospecting,300,1/1/1970\n"
    )
    at = upload(run_app(source="My uploads"), "placeholders.csv", export)
    quality = dict(table_with(at, "What").itertuples(index=False))
    assert (
        quality["Close date: placeholder dates read as no date, e.g. '1/1/1970', '12/31/9999'"] == 2
    )


def test_converted_amounts_are_the_figures_and_no_rates_are_asked_for():
    at = upload(run_app(source="My uploads"), "rapport.csv", CONVERTED_AMOUNTS)
    assert not any("mixes" in warning.value for warning in at.warning)
    assert metrics(at)["Won"] == "€3.3K · 2 deals"
