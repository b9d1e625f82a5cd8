"""What did we load? The export as Closeboard understood it, and where to correct it."""

import pandas as pd
import streamlit as st

from lib.currencies import display_of, into_display, read_rates_file
from lib.deal_history import changes_of_deal, deals_with_history
from lib.format import markdown_text, money
from lib.load.errors import LoadError
from lib.load.files import DELIMITER_NAMES
from lib.load.mapping import (
    FIELDS,
    FIELDS_BY_KEY,
    MissingFieldsError,
    mapping_to_json,
    with_choices,
)
from lib.load.stages import STATUSES, with_edit
from lib.overview import deals_named_by_user_id, export_summary, owners, quota_grid
from ui.choices import headers_key, remembered
from ui.session import as_of_caption, current
from ui.stage_questions import ask
from ui.tables import money_column, money_columns, table

NOT_MAPPED = "— not in this export —"
# The stage editor's columns, the rule field each edits, and how its cell becomes that value.
STAGE_EDITOR_COLUMNS = {
    "Status": ("status", str),
    "Probability": ("probability", lambda percent: (percent or 0) / 100),
    "Late stage": ("late", bool),
}

st.title("What did we load?")


def mapping_editor(headers: tuple[str, ...], mapping: dict[str, str]) -> None:
    """A row per canonical field with the file's column for it; a change reloads the export."""
    frame = pd.DataFrame(
        {
            "Field": [field.label for field in FIELDS],
            "Required": [field.required for field in FIELDS],
            "Column in the file": [mapping.get(field.key, NOT_MAPPED) for field in FIELDS],
        }
    )
    key = f"mapping_editor_{headers_key(tuple(f'{k}={v}' for k, v in mapping.items()))}"

    def remember_mapping() -> None:
        choices = {
            FIELDS[int(row)].key: None if column == NOT_MAPPED else column
            for row, change in st.session_state[key]["edited_rows"].items()
            if (column := change.get("Column in the file"))
        }
        remembered("mappings")[headers_key(headers)] = with_choices(mapping, choices)

    st.data_editor(
        frame,
        key=key,
        hide_index=True,
        disabled=["Field", "Required"],
        on_change=remember_mapping,
        column_config={
            "Column in the file": st.column_config.SelectboxColumn(
                options=[NOT_MAPPED, *headers], required=True, width="large"
            ),
        },
    )


failed = st.session_state.get("failed_upload")
if failed and isinstance(failed[1], MissingFieldsError):
    upload, error = failed
    st.subheader(f"Pick the columns of {markdown_text(upload.name)}")
    st.write(
        "Closeboard did not recognise every field it needs. Choose the column that holds each "
        "required field; the choice is remembered for exports with the same columns."
    )
    mapping_editor(error.headers, error.mapping)

data = current()
if data is None:
    if not failed:
        st.info(
            "Upload an opportunities export in the sidebar (CSV or XLSX from Salesforce, HubSpot, "
            "Pipedrive, Dynamics, Zoho or a spreadsheet), or switch to the sample data.",
            icon=":material/upload_file:",
        )
    st.stop()

con = data.connection()
report = data.export.report
currency = data.currency
st.caption(as_of_caption(data))
ask(report, con, currency)

summary = export_summary(con)
close_dates = (
    f" · close dates {summary['close_date_min']:%b %Y} – {summary['close_date_max']:%b %Y}"
    if summary["close_date_min"]
    else ""
)
st.markdown(f"**{report.layout}** · {markdown_text(report.file_name)}{close_dates}")
read, loaded, rejected, reps = st.columns(4)
read.metric("Rows read", f"{report.rows_read:,}")
loaded.metric("Deals loaded", f"{report.rows_loaded:,}")
rejected.metric("Rows not loaded", f"{report.rows_rejected:,}")
reps.metric("Owners", f"{summary['owners']:,}")
# The amount is the figure and the count goes under it: "277,343 · $10.1B" side by side was cut
# short in a quarter of the page.
for column, status in zip(st.columns(4), ("open", "won", "lost"), strict=False):
    count, unpriced = summary[f"deals_{status}"], summary[f"{status}_without_amount"]
    column.metric(
        status.capitalize(),
        # No deal: $0; deals, none with an amount: unknown, not $0.
        money(summary[f"amount_{status}"] if unpriced < count or not count else None, currency),
        f"{count:,} deal"
        + ("" if count == 1 else "s")
        + (f", {unpriced:,} not in the amount" if unpriced else ""),
        delta_color="gray",
        delta_arrow="off",
        help=f"Deals without an amount in {currency}: none in the export, or in a currency "
        "without a rate."
        if unpriced
        else None,
    )
files = data.export.export_files
if files is not None:
    st.subheader("Files of the Data Export", anchor=False)
    # A few rows, all of them worth reading: a plain table rather than a scrolling grid.
    st.table(
        pd.DataFrame(
            {
                "File": [used.file for used in files.files_used],
                "What was taken": [used.taken for used in files.files_used],
            }
        ),
        hide_index=True,
    )
    if files.not_used:
        # A large org's export holds hundreds of objects: their names are there to look up,
        # folded away, not a paragraph to scroll past.
        unused = files.not_used_count
        with st.expander(f"{unused:,} file{'' if unused == 1 else 's'} not used"):
            st.markdown("\n".join(f"- {markdown_text(name)}" for name in files.not_used))
    named_by_reps = deals_named_by_user_id(con)
    if not files.owners_named and named_by_reps:
        st.caption(
            f"Owner names of {named_by_reps:,} deals come from the reps file's Id column "
            f"({markdown_text(data.reps.file_name)})."
        )
    elif not files.owners_named:
        st.info(
            "Owners show as Salesforce user IDs: this export has no User.csv. To see their "
            "names, tick User in Setup → Data Export for the next export, or upload a User.csv "
            "with this one (choose both files at once in the opportunities uploader), or a reps "
            "file with an Id column beside each rep's name (Id, Name, Team).",
            icon=":material/badge:",
        )
rates = data.rates
# Rates are asked for only where the export has no amounts converted by the CRM itself.
mixes_currencies = len(report.currencies) > 1 and not data.converted_amounts

has_history = files is not None and files.history_file is not None
tabs = st.tabs(["Columns", "Stages", "Rows not loaded", "Data quality", "Owners", "Quotas"]
               + (["Currencies"] if mixes_currencies else [])
               + (["History"] if has_history else []))  # fmt: skip

with tabs[0]:
    st.write(
        "Which column of the file holds each field. Change a choice to reload the export; the "
        "mapping is remembered for exports with the same columns, and downloads for next week."
    )
    mapping_editor(report.headers, report.mapping)
    st.download_button(
        "Download this mapping (JSON)",
        mapping_to_json(
            report.mapping,
            report.headers,
            remembered("stage_edits").get(headers_key(report.headers)),
        ),
        file_name="closeboard-mapping.json",
        mime="application/json",
        icon=":material/download:",
        on_click="ignore",
    )
    if report.unmapped_headers:
        st.caption(
            "Columns kept but not used: " + markdown_text(", ".join(report.unmapped_headers))
        )

with tabs[1]:
    st.write(
        "How each stage is read. Deals that carry their own probability keep it; the stage's "
        "probability fills in for deals without one. Mark the stages that count as late for "
        "the close-today list."
    )
    rules = report.stage_rules
    stage_frame = pd.DataFrame(
        {
            "Stage": [r.stage for r in rules],
            "Deals": [r.deals for r in rules],
            "Status": [r.status for r in rules],
            "Probability": [round(r.probability * 100) for r in rules],
            "Late stage": [r.late for r in rules],
            "Probability from": [r.source for r in rules],
        }
    )
    stage_key = f"stage_editor_{headers_key(tuple(repr(r) for r in rules))}"

    def remember_stage_edits() -> None:
        stage_edits = remembered("stage_edits")
        edits = stage_edits.get(headers_key(report.headers), {})
        for row, change in st.session_state[stage_key]["edited_rows"].items():
            values = {
                key: read(change[column])
                for column, (key, read) in STAGE_EDITOR_COLUMNS.items()
                if column in change
            }
            edits = with_edit(edits, rules[int(row)], values)
        stage_edits[headers_key(report.headers)] = edits

    st.data_editor(
        stage_frame,
        key=stage_key,
        hide_index=True,
        disabled=["Stage", "Deals", "Probability from"],
        on_change=remember_stage_edits,
        column_config={
            "Status": st.column_config.SelectboxColumn(options=list(STATUSES), required=True),
            "Probability": st.column_config.NumberColumn(
                min_value=0, max_value=100, step=5, format="%d %%"
            ),
        },
    )

with tabs[2]:
    if not report.rejected:
        st.success("Every row of the file was loaded.", icon=":material/check_circle:")
    else:
        rows = "1 row was" if report.rows_rejected == 1 else f"{report.rows_rejected:,} rows were"
        st.write(f"{rows} not loaded, for these reasons:")
        table(
            pd.DataFrame({"Reason": list(report.rejected), "Rows": list(report.rejected.values())}),
            hide_index=True,
        )
        st.write("Examples:")
        table(pd.DataFrame(report.rejected_examples), hide_index=True)

with tabs[3]:
    readings = pd.DataFrame(
        {
            "Field": [FIELDS_BY_KEY[key].label for key in report.date_readings],
            "Read as": [r.label for r in report.date_readings.values()],
            "Note": [r.reason for r in report.date_readings.values()],
        }
    )
    st.write("**Dates**")
    table(readings, hide_index=True)
    for key, reading in report.date_readings.items():
        if reading.ambiguous:
            st.warning(
                f"{FIELDS_BY_KEY[key].label}: {reading.reason}. If that is wrong, the export's "
                "origin is wrong: tell us and we will add a switch.",
                icon=":material/event:",
            )
    st.write("**Gaps and oddities**")
    quality = [
        ("Open deals without a close date", summary["open_without_close_date"]),
        ("Open deals without an amount", summary["open_without_amount"]),
        ("Duplicate opportunity IDs (first row kept)", len(report.duplicate_ids)),
        *(
            (f"{FIELDS_BY_KEY[key].label}: {what}, e.g. "
             f"{', '.join(repr(e) for e in cells.examples)}", cells.count)
            for what, counted in (("cells not readable", report.unreadable),
                                  ("placeholder dates read as no date", report.placeholder_dates))
            for key, cells in counted.items()
        ),
    ]  # fmt: skip
    table(pd.DataFrame(quality, columns=["What", "Count"]), hide_index=True)
    if report.duplicate_ids:
        st.caption("Duplicate IDs: " + markdown_text(", ".join(report.duplicate_ids)))
    st.caption(
        f"{report.file_kind}"
        + (f", {report.encoding}" if report.encoding else "")
        + (f", {DELIMITER_NAMES[report.delimiter]}-separated" if report.delimiter else "")
        + (", decimal comma" if report.decimal_comma else "")
        + (f", sheet {markdown_text(repr(report.sheet))}" if report.sheet else "")
        + (f", {report.footer_lines} footer lines skipped" if report.footer_lines else "")
    )

with tabs[4]:
    table(
        owners(con),
        hide_index=True,
        column_config={
            "owner": "Owner",
            "team": "Team",
            "manager": "Manager",
            "deals": "Deals",
            "open_deals": "Open deals",
            "open_amount": money_column("Open pipeline", currency),
            "won_amount": money_column("Won (all time)", currency),
        },
    )
    if data.reps is None:
        st.caption("Upload a reps file (owner, team, manager) to group reps into teams.")

with tabs[5]:
    if data.targets is None:
        st.info("No quotas loaded: upload a quota or budget file in the sidebar.")
    else:
        quotas = quota_grid(con)
        st.caption(
            f"{markdown_text(data.targets.report.file_name)}: {data.targets.report.form} form, "
            f"{data.targets.report.targets_loaded:,} targets loaded"
        )
        table(quotas, column_config=money_columns(quotas.columns, currency))
        if data.targets.report.rejected:
            st.warning(
                "Rows not loaded: "
                + markdown_text(
                    "; ".join(f"{n} × {r}" for r, n in data.targets.report.rejected.items())
                ),
            )

if mixes_currencies:
    with tabs[6]:
        rates_key = headers_key(report.headers)

        def choose_currency() -> None:
            chosen = st.session_state[f"display_currency_{rates_key}"]
            remembered("display_currency")[rates_key] = chosen

        st.selectbox(
            "Show figures in",
            report.currencies,
            index=report.currencies.index(currency) if currency in report.currencies else 0,
            key=f"display_currency_{rates_key}",
            on_change=choose_currency,
        )
        source = (
            "CurrencyType.csv's until you change them"
            if files is not None and files.rates and not remembered("rates").get(rates_key)
            else "as given"
        )
        st.write(f"Rates into {currency}, {source}: 1 unit of each currency = rate {currency}.")
        current = data.rates or {}
        frame = pd.DataFrame(
            {
                "Currency": list(report.currencies),
                "Rate": [current.get(c) for c in report.currencies],
            }
        )
        edited = st.data_editor(
            frame,
            hide_index=True,
            disabled=["Currency"],
            column_config={"Rate": st.column_config.NumberColumn(min_value=0.0, format="%.4f")},
        )
        if st.button("Use these rates", icon=":material/currency_exchange:"):
            remembered("rates")[rates_key] = {
                row.Currency: float(row.Rate) for row in edited.itertuples() if pd.notna(row.Rate)
            }
            st.rerun()
        rates_file = st.file_uploader(
            "Or a rates file", type=["csv", "txt"], key="rates_file",
            help="Two columns, currency and rate: units of each currency per 1 unit of the "
            "currency to show figures in, whose rate is 1 (Salesforce's CurrencyType).",
        )  # fmt: skip
        if rates_file is not None and st.session_state.get("rates_file_read") != rates_file.file_id:
            st.session_state.rates_file_read = rates_file.file_id
            try:
                given = into_display(read_rates_file(rates_file.getvalue(), rates_file.name))
            except LoadError as error:
                st.error(markdown_text(error), icon=":material/error:")
            else:
                remembered("rates")[rates_key] = given
                remembered("display_currency")[rates_key] = display_of(given)
                st.rerun()

if has_history:
    with tabs[-1]:
        st.write(
            f"The deals {markdown_text(files.history_file)} records changes of, the most "
            "pushed first. Tick a deal to see its close date, stage and amount over time. "
            "Close-date pushes flag deals on the close-today page and in the “Close date keeps "
            "moving” warning."
        )
        changed = deals_with_history(files.history, data.export.deals)
        # Every deal, not the first 1,000: a deal is ticked here to see its history.
        picked = table(
            changed,
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key="history_deals",
            column_order=[c for c in changed.columns if c not in ("Currency", "Opportunity ID")],
            column_config={"Close date now": st.column_config.DateColumn(format="D MMM YYYY")},
        )
        rows = picked.selection.rows
        if rows:
            deal = changed.iloc[rows[0]]
            deal_currency = deal["Currency"] if pd.notna(deal["Currency"]) else None
            st.markdown(
                f"**{markdown_text(deal['Deal'])}** · {markdown_text(deal['Rep'])}",
                anchors=False,
            )
            table(
                changes_of_deal(files.history, deal["Opportunity ID"], deal_currency),
                hide_index=True,
                column_config={
                    "What changed": st.column_config.TextColumn(width="large"),
                    "Amount": money_column("Amount", deal_currency),
                    "Changed on": st.column_config.DateColumn(format="D MMM YYYY"),
                    "Close date": st.column_config.DateColumn(format="D MMM YYYY"),
                },
            )
