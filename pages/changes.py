"""What changed since last week? Snapshots of each week's export, and the movement between two."""

from datetime import date

import streamlit as st

from lib import store
from lib.changes import compare, deals_table, headline, push_counts, pushes_table
from lib.charts import pipeline_waterfall_chart
from lib.downloads import csv_file_name, safe_csv
from lib.format import markdown_text, money
from ui import workspace
from ui.messages import show_error
from ui.session import as_of_caption, loaded_or_stop, workspace_store
from ui.tables import long_table, money_columns, table

THIS_UPLOAD = "this upload"
MONEY_COLUMNS = ("Moved", "Amount before", "Amount now")
DATE_COLUMNS = ("Close date before", "Close date now", "First close date")

st.title("What changed since last week?")
data = loaded_or_stop()
st.caption(as_of_caption(data))
kept = workspace_store()
upload = store.snapshot_of_export(data.export, data.settings.as_of)

# A save or delete reruns the page so that every part of it sees the new list; what was done
# is said once, above it.
if message := st.session_state.pop("snapshot_message", None):
    st.success(message, icon=":material/check_circle:")

try:
    snapshots = kept.list_snapshots()
except store.StoreDamagedError:
    if not st.session_state.get("workspace_damaged"):  # else said above every page already
        workspace.damaged_notice(workspace.active())
    st.stop()
except store.StoreError as error:
    show_error(error)
    st.stop()
saved = {entry["as_of"]: entry for entry in snapshots}


def save(as_of: date, replace: bool) -> None:
    try:
        entry = kept.save_snapshot(store.snapshot_of_export(data.export, as_of), replace=replace)
    except store.SnapshotExistsError:
        st.session_state.confirm_replace = as_of
        st.rerun()
    except store.StoreError as error:
        show_error(error)
        return
    st.session_state.pop("confirm_replace", None)
    st.session_state.snapshot_message = (
        f"Saved {entry['deals']:,} deals as the snapshot of {as_of:%a %-d %b %Y}."
    )
    workspace.record(
        workspace.active(),
        "replaced" if replace else "saved",
        f"the snapshot of {as_of:%a %-d %b %Y} ({entry['deals']:,} deals, {data.source})",
    )
    st.rerun()


with st.container(border=True):
    day, button, _ = st.columns([1, 1, 2], vertical_alignment="bottom")
    save_as_of = day.date_input(
        "Save this export as the snapshot of", value=data.settings.as_of, format="YYYY-MM-DD",
        help="The export's as-of date; change it when the file is from another day.",
    )  # fmt: skip
    if button.button("Save as snapshot", icon=":material/save:", type="primary"):
        if save_as_of in saved:
            st.session_state.confirm_replace = save_as_of
        else:
            save(save_as_of, replace=False)
    if st.session_state.get("confirm_replace") == save_as_of and save_as_of in saved:
        existing = saved[save_as_of]
        st.warning(
            f"There is already a snapshot of {save_as_of:%a %-d %b %Y} "
            f"({existing['deals']:,} deals, saved {existing['saved_at']:%-d %b %Y %H:%M}). "
            "Replace it with this export?",
            icon=":material/warning:",
        )
        yes, no, _ = st.columns([1, 1, 2])
        if yes.button("Replace it", icon=":material/published_with_changes:"):
            save(save_as_of, replace=True)
        if no.button("Keep the saved one"):
            st.session_state.pop("confirm_replace", None)
            st.rerun()


def label(choice: date | str) -> str:
    if choice == THIS_UPLOAD:
        return f"This upload (as of {upload.as_of:%a %-d %b %Y})"
    return f"Snapshot of {choice:%a %-d %b %Y}"


def chosen(choice: date | str) -> store.Snapshot:
    return upload if choice == THIS_UPLOAD else kept.read_snapshot(choice)


newest_first = sorted(saved, reverse=True)
choices = [*newest_first, THIS_UPLOAD]
if not snapshots:
    st.info(
        "No snapshot yet. Save this export as one; next week, upload the fresh export and "
        "compare it with this one.",
        icon=":material/history:",
    )
else:
    # The two newest snapshots by default; with only one, this upload against it.
    older_default, newer_default = (1, 0) if len(newest_first) > 1 else (0, 1)
    older_column, newer_column = st.columns(2)
    older_choice = older_column.selectbox(
        "Compare", choices, index=older_default, format_func=label
    )
    newer_choice = newer_column.selectbox("with", choices, index=newer_default, format_func=label)
    try:
        older, newer = chosen(older_choice), chosen(newer_choice)
    except store.StoreError as error:
        show_error(error)
        st.stop()
    if older.as_of > newer.as_of:
        older, newer = newer, older
    changes = compare(older, newer, data.settings)
    currency = changes.currency
    # Pushes over every snapshot up to the newer export, with this upload in place of any
    # snapshot of its date when it is one of the two.
    unsaved = [snapshot for snapshot in (older, newer) if snapshot is upload]
    pushes = push_counts(kept.close_date_history(newer.as_of, unsaved))

    for warning in changes.warnings:
        st.warning(markdown_text(warning), icon=":material/link_off:")
    waterfall = changes.waterfall
    start, net, end = st.columns(3)
    start.metric(f"Pipeline on {older.as_of:%-d %b}", money(waterfall.start, currency))
    net.metric("Change", ("+" if waterfall.net > 0 else "") + money(waterfall.net, currency))
    end.metric(f"Pipeline on {newer.as_of:%-d %b}", money(waterfall.end, currency))
    st.plotly_chart(
        pipeline_waterfall_chart(changes, headline(changes)),
        width="stretch",
        theme=None,
        config={"displayModeBar": False},
    )
    st.caption(
        f"Open deals closing in {changes.period.label} ({changes.period.start:%-d %b} – "
        f"{changes.period.end:%-d %b %Y}), overdue ones included. Each deal moves once: one "
        "that left the quarter counts with its old amount, one that joined with its new one. "
        f"Deals matched by {changes.matched_by}."
    )

    def deals_with_download(frame, download_as: str) -> None:
        long_table(
            frame,
            "deals",
            "the CSV holds every one",
            hide_index=True,
            column_config={
                **money_columns([c for c in MONEY_COLUMNS if c in frame], currency),
                **{
                    c: st.column_config.DateColumn(c, format="D MMM YYYY")
                    for c in DATE_COLUMNS
                    if c in frame
                },  # fmt: skip
                "What changed": st.column_config.TextColumn(width="large"),
            },
        )
        st.download_button(
            "Download (CSV)",
            safe_csv(frame),
            file_name=csv_file_name(download_as, older.as_of.isoformat(), newer.as_of.isoformat()),
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            key=f"download_{download_as}",
        )

    changed, pushed, regressed = st.tabs(
        [
            f"Deals that changed ({len(changes.deals):,})",
            f"Close dates pushed ({pushes.num_rows:,})",
            f"Stage moved back ({len(changes.regressions):,})",
        ]
    )
    with changed:
        deals_with_download(deals_table(changes.deals, currency), "changed-deals")
    with pushed:
        st.caption(
            f"Pushes of an open deal's close date to a later day, counted over every snapshot "
            f"up to {newer.as_of:%-d %b %Y}, never netted against pull-ins. Deals pushed "
            f"{data.settings.pushes_to_flag} times or more are flagged on the close-today list "
            "and among the warnings."
        )
        deals_with_download(pushes_table(pushes), "close-dates-pushed")
    with regressed:
        st.caption("Open deals whose stage moved back in the stage order.")
        deals_with_download(deals_table(changes.regressions, currency), "stage-moved-back")

st.subheader("Saved snapshots", anchor=False)
st.caption(workspace.kept_where())
if snapshots:
    table(
        [
            {"As of": entry["as_of"], "Deals": entry["deals"], "Saved": entry["saved_at"]}
            for entry in reversed(snapshots)
        ],
        hide_index=True,
        column_config={
            "As of": st.column_config.DateColumn(format="ddd D MMM YYYY"),
            "Saved": st.column_config.DatetimeColumn(format="D MMM YYYY HH:mm"),
        },
    )
    with st.expander("Delete a snapshot", icon=":material/delete:"):
        doomed = st.selectbox("Snapshot to delete", newest_first, format_func=label)
        if st.button(
            f"Delete the snapshot of {doomed:%a %-d %b %Y}", icon=":material/delete_forever:"
        ):
            try:
                kept.delete_snapshot(doomed)
            except store.StoreError as error:
                show_error(error)
            else:
                st.session_state.snapshot_message = (
                    f"Deleted the snapshot of {doomed:%a %-d %b %Y}."
                )
                workspace.record(
                    workspace.active(), "deleted", f"the snapshot of {doomed:%a %-d %b %Y}"
                )
                st.rerun()

audit = workspace.audit()
if audit:
    with st.expander("Who saved, deleted or loaded what", icon=":material/manage_history:"):
        table(
            [
                {
                    "When": line["at"],
                    "Who": line["who"],
                    "Did": line["action"],
                    "What": line["what"],
                }
                for line in audit
            ],
            hide_index=True,
            column_config={"When": st.column_config.DatetimeColumn(format="D MMM YYYY HH:mm")},
        )
