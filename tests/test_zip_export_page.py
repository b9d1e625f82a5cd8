"""Uploading the hand-built Salesforce Data Export ZIP in the app, run headless with AppTest."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests import salesforce_export as sf
from tests.data.bad.make_corpus import zip_of
from tests.test_app import APP, metrics


def text(value: str) -> str:
    """Markdown as the reader sees it (AppTest keeps the escapes)."""
    return re.sub(r"\\(.)", r"\1", value)


def uploaded(*files: tuple[str, bytes], page: str = "pages/data.py") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["source"] = "My uploads"
    at.run()
    at.switch_page(page).run()
    at.file_uploader(key="upload_opportunities").set_value(
        [(name, data, "application/zip") for name, data in files]
    ).run()
    assert not at.exception, at.exception
    return at


def test_the_uploaded_zip_loads_with_names_converted_totals_and_the_export_calendar():
    at = uploaded(("WE_00D5g000000_1.ZIP", sf.full_export()))
    shown = metrics(at)
    assert (shown["Rows read"], shown["Deals loaded"], shown["Rows not loaded"]) == ("6", "5", "1")
    # 22,750 USD open and 6,000 USD won, in the corporate currency (CurrencyType.csv).
    assert (shown["Open"], shown["Won"]) == ("$22.8K · 3 deals", "$6K · 1 deal")
    assert at.selectbox(key="fiscal_start").value == 2
    assert at.date_input(key="as_of").value.isoformat() == sf.AS_OF
    files = at.table[0].value
    assert list(files["File"]) == [
        "Opportunity.csv", "User.csv", "UserRole.csv", "Account.csv", "CurrencyType.csv",
        "FiscalYearSettings.csv", "ForecastingQuota.csv", "OpportunityHistory.csv",
    ]  # fmt: skip
    assert files["What was taken"].iloc[-1] == sf.HISTORY_SUMMARY
    owners = next(frame.value for frame in at.dataframe if "open_deals" in frame.value.columns)
    assert sorted(owners["owner"]) == ["Ana García", "Ben Okafor"]
    assert not at.warning  # rates are known: no call to enter them
    assert not [i for i in at.info if "user IDs" in i.value]


def test_without_user_csv_the_data_page_says_how_to_get_names():
    at = uploaded(("WE_1.zip", sf.export_without("User.csv")))
    note = next(text(i.value) for i in at.info if "user IDs" in i.value)
    assert note.startswith("Owners show as Salesforce user IDs: this export has no User.csv.")
    owners = next(frame.value for frame in at.dataframe if "open_deals" in frame.value.columns)
    assert sorted(owners["owner"]) == [sf.ANA, sf.BEN]


def test_the_export_csvs_chosen_together_load_as_the_zip_does():
    at = uploaded(*sf.FILES.items())
    assert metrics(at)["Open"] == "$22.8K · 3 deals"
    assert any("Opportunity.csv and 7 more files" in text(m.value) for m in at.markdown), (
        "the source names the files"
    )


def test_history_pushes_flag_the_deals_whose_close_date_keeps_moving_on_the_warnings_page():
    at = uploaded(("WE_1.zip", sf.full_export()), page="pages/pipeline_warnings.py")
    messages = " ".join(text(alert.value) for alert in [*at.error, *at.warning])
    assert "Ana García: 1 open deal with a close date pushed 2 times or more" in messages
    assert "Ben Okafor: 1 open deal with a close date pushed 2 times or more" in messages


def test_the_close_today_page_says_where_pushes_come_from():
    at = uploaded(("WE_1.zip", sf.full_export()), page="pages/close_today.py")
    assert any("counted from OpportunityHistory.csv" in c.value for c in at.caption)


def test_a_deal_pushed_twice_in_the_history_is_flagged_on_the_close_today_list():
    at = uploaded(("WE_1.zip", sf.full_export()), page="pages/close_today.py")
    at.radio(key="close_window").set_value("Within N days").run()  # 14 days: to 4 Dec
    deals = next(frame.value for frame in at.dataframe if "Flags" in frame.value.columns)
    assert list(deals["Deal"]) == ["Acme ampliación"]  # Commit, 90 %, closing 30 Nov
    assert "close date pushed 2 times" in deals["Flags"].iloc[0]


def test_a_reps_file_with_user_ids_names_the_owners_of_an_export_without_user_csv():
    at = uploaded(("WE_1.zip", sf.export_without("User.csv")))
    reps = f"Id,Name,Team\n{sf.ANA},Ana García,East\n{sf.BEN},Ben Okafor,West\n".encode()
    at.file_uploader(key="upload_reps").upload("users.csv", reps, "text/csv").run()
    assert not at.exception, at.exception
    owners = next(frame.value for frame in at.dataframe if "open_deals" in frame.value.columns)
    assert sorted(owners["owner"]) == ["Ana García", "Ben Okafor"]
    assert not [i for i in at.info if "user IDs" in i.value]
    # Every loaded deal is owned by one of the two IDs.
    assert "Owner names of 5 deals come from the reps file's Id column (users.csv)." in [
        text(caption.value) for caption in at.caption
    ]


def test_files_not_used_are_counted_with_their_names_folded_away():
    # A large org's export: 340 objects Closeboard does not read and 2 attachments beside ours.
    others = {f"Custom_{n:03d}__c.csv": b"Id\n1\n" for n in range(340)}
    attachments = {f"Attachments/00P{n}.pdf": b"%PDF" for n in range(2)}
    at = uploaded(("WE_1.zip", zip_of({**sf.FILES, **others, **attachments})))
    (folded,) = [e for e in at.expander if e.label == "342 files not used"]
    names = text(folded.markdown[0].value).splitlines()
    assert names[:2] == ["- Custom_000__c.csv", "- Custom_001__c.csv"]
    assert names[-1] == "- 2 other files (not CSV), not opened"
    assert len(names) == 341
    assert not [c for c in at.caption if "Custom_000__c.csv" in c.value]
