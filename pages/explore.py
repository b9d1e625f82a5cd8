"""Explore the data: any question of the deals in a few clicks, and a SQL box for the rest."""

import hashlib
import json
from datetime import date

import pandas as pd
import streamlit as st

from lib import explore, query
from lib.charts import explore_chart, query_chart
from lib.downloads import csv_file_name, safe_csv
from lib.format import markdown_text
from ui.session import as_of_caption, loaded_or_stop
from ui.tables import money_column, money_columns, table

st.title("Explore the data")
data = loaded_or_stop()
con = data.connection()
settings = data.settings
currency = data.currency
st.caption(as_of_caption(data))
available = explore.dimensions(data.export.deals.column_names)
DATE_FIELDS = ("close_from", "close_to", "created_from", "created_to")


def apply_link() -> bool:
    """Puts the view a link holds into the widgets, once per link and export; False while the
    loaded data cannot show it (the link stays in the URL until data that can is loaded)."""
    link = {name: st.query_params.get_all(name) for name in st.query_params}
    applied = (id(data.export), sorted(link.items()))
    if not link or st.session_state.get("explore_link") == applied:
        return True
    try:
        view = explore.from_query(link, available)
    except ValueError as error:
        st.info(
            f"{markdown_text(error)} Load the export the link was made with to see its view.",
            icon=":material/link:",
        )
        return False
    state = st.session_state
    state.explore_deals, state.explore_measure = view.deals, view.measure
    state.explore_by, state.explore_split, state.explore_top = view.by, view.split or "", view.top
    state.explore_filtered = list(view.filters)
    for key, values in view.filters.items():
        state[f"explore_filter_{key}"] = list(values)
    for name in DATE_FIELDS:
        state[f"explore_{name}"] = getattr(view, name)
    state.explore_link = applied
    return True


def forget_missing_columns() -> None:
    """Choices of a column the loaded export lacks (the last export had it) go back to the
    defaults: a widget refuses a value that is not among its options."""
    state = st.session_state
    if state.get("explore_by", "owner") not in available:
        del state.explore_by
    if state.get("explore_split", "") not in ("", *available):
        del state.explore_split
    state.explore_filtered = [key for key in state.get("explore_filtered", []) if key in available]


forget_missing_columns()
link_applied = apply_link()
explore_tab, sql_tab = st.tabs(["Pick and see", "SQL"])

with explore_tab:
    deals_column, measure_column, by_column, split_column, top_column = st.columns([3, 3, 3, 3, 1])
    st.session_state.setdefault("explore_deals", explore.View().deals)
    deals = deals_column.selectbox(
        "Deals", list(explore.DEAL_SETS), key="explore_deals",
        format_func=lambda key: explore.DEAL_SETS[key].label,
    )  # fmt: skip
    measure = measure_column.selectbox(
        "Measure", list(explore.MEASURES), key="explore_measure",
        format_func=lambda key: explore.MEASURES[key].label,
    )  # fmt: skip
    label_of = {key: dimension.label for key, dimension in available.items()}
    by = by_column.selectbox("By", list(available), key="explore_by", format_func=label_of.get)
    # "" for no split: a selectbox shows None as nothing chosen yet, not as a choice.
    split = split_column.selectbox(
        "Split by", ["", *available], key="explore_split",
        format_func=lambda key: label_of.get(key, "No split"),
    ) or None  # fmt: skip
    top = top_column.number_input(
        "Top N", 1, 100, explore.DEFAULT_TOP, key="explore_top",
        help="Show the N largest values; the rest are added up as All others.",
    )  # fmt: skip
    with st.expander("Filters", icon=":material/filter_alt:"):
        filtered = st.multiselect(
            "Filter on", list(available), key="explore_filtered", format_func=label_of.get
        )
        filters = {}
        for key in filtered:
            chosen = st.session_state.get(f"explore_filter_{key}", [])
            options = explore.dimension_values(con, available[key], settings)
            filters[key] = tuple(
                st.multiselect(
                    markdown_text(label_of[key]), list(dict.fromkeys([*options, *chosen])),
                    key=f"explore_filter_{key}", placeholder="Any",
                )
            )  # fmt: skip
        date_columns = st.columns(4)
        dates: dict[str, date | None] = {
            name: column.date_input(
                name.replace("_", " ").capitalize(), value=None, key=f"explore_{name}",
                format="YYYY-MM-DD",
            )
            for name, column in zip(DATE_FIELDS, date_columns, strict=True)
        }  # fmt: skip

    view = explore.View(deals, measure, by, split, filters, top=int(top), **dates)
    if link_applied:
        st.query_params.from_dict(explore.to_query(view))
        st.session_state.explore_link = (
            id(data.export),
            sorted((name, st.query_params.get_all(name)) for name in st.query_params),
        )
    result = explore.explore(con, view, available, settings)
    # Widgets of their own for each view: a selection made on another view's chart or table
    # must not point into this one.
    view_key = hashlib.sha256(
        json.dumps(explore.to_query(view), sort_keys=True).encode()
    ).hexdigest()[:12]

    def selected_on(source: str):
        return lambda: st.session_state.update(explore_selected_on=source)

    if result.deals == 0:
        st.info("No deals fit this view: widen the filters or the dates, or pick other deals.")
        st.stop()
    chart_event = st.plotly_chart(
        explore_chart(result, currency), width="stretch", theme=None,
        key=f"explore_chart_{view_key}", on_select=selected_on("chart"), selection_mode="points",
    )  # fmt: skip
    pivot = explore.pivot_table(result)
    value_columns = [column for column in pivot.columns if column not in (result.by.label, "Deals")]
    formats = {"money": None, "share": "percent", "count": "%,.0f", "days": "%,.0f days"}
    column_config = {
        column: money_column(column, currency)
        if result.measure.kind == "money"
        else st.column_config.NumberColumn(column, format=formats[result.measure.kind])
        for column in value_columns
    }
    st.caption("Select a bar, a point, a cell or a row to see the deals behind it.")
    table_event = table(
        pivot, hide_index=True, column_config=column_config, key=f"explore_table_{view_key}",
        on_select=selected_on("table"),
        selection_mode=["single-row", "single-cell"],
    )  # fmt: skip
    st.download_button(
        "Download this table (CSV)", safe_csv(pivot), csv_file_name("explore", result.question),
        mime="text/csv", icon=":material/download:", on_click="ignore",
    )  # fmt: skip

    def selected() -> tuple[str | None, str | None] | None:
        """(row, split) of the bar, point, cell or row selected last; None for a Total."""
        points = chart_event.selection.points
        cells, rows = table_event.selection.cells, table_event.selection.rows
        on_chart = st.session_state.get("explore_selected_on") == "chart"
        if points and (on_chart or not (cells or rows)):
            point = points[0]
            return explore.selected_cell(result, point["curve_number"], point["point_index"])
        if not cells and not rows:
            return None
        position, column = cells[0] if cells else (rows[0], None)
        row = pivot.iloc[position][result.by.label]
        by_value = None if position == len(pivot) - 1 else row
        split_value = column if result.split and column not in (None, "Total") else None
        return by_value, split_value

    choice = selected()
    if choice is not None:
        by_value, split_value = choice
        where = " · ".join(value for value in (by_value, split_value) if value) or "every row"
        count = explore.deals_in(result, by_value, split_value)
        behind = explore.deals_behind(
            con, view, available, settings, by_value, split_value, explore.DEALS_SHOWN
        )
        st.subheader(f"The deals behind {markdown_text(where)} ({count:,})")
        table(
            behind, hide_index=True,
            column_config=money_columns(["amount", "amount_in_deal_currency"], currency),
        )  # fmt: skip
        if count > explore.DEALS_SHOWN:
            st.caption(f"The first {explore.DEALS_SHOWN:,} shown; the download holds them all.")

        def all_deals_behind() -> pd.DataFrame:
            # Made when the button is clicked, on another thread: with a connection of its own.
            con = data.connection()
            try:
                return explore.deals_behind(con, view, available, settings, by_value, split_value)
            finally:
                con.close()

        st.download_button(
            "Download these deals (CSV)", lambda: safe_csv(all_deals_behind()),
            csv_file_name("deals", by_value or "", split_value or ""),
            mime="text/csv", icon=":material/download:", on_click="ignore",
        )  # fmt: skip

with sql_tab:
    code_column, tables_column = st.columns([3, 1])
    with tables_column:
        st.markdown("**Tables**")
        for name, columns in query.table_columns(data).items():
            with st.expander(name):
                table(pd.DataFrame(columns, columns=["column", "type"]), hide_index=True)
    with code_column, st.form("sql_box"):
        sql = st.text_area(
            "One SELECT (or PIVOT, UNPIVOT) over the tables on the right",
            key="explore_sql", height=160,
            placeholder='SELECT "Product", sum(amount) FROM opportunities GROUP BY ALL',
        )  # fmt: skip
        run = st.form_submit_button("Run", icon=":material/play_arrow:")
    if run:
        try:
            st.session_state.sql_result = (
                sql, id(data.export),
                query.run_query(sql, data, settings.query_timeout_seconds), None,
            )  # fmt: skip
        except query.QueryRefused as error:
            st.session_state.sql_result = (sql, id(data.export), None, str(error))
    ran = st.session_state.get("sql_result")
    if ran and ran[1] == id(data.export):
        _, _, answer, refusal = ran
        if refusal:
            st.error(markdown_text(refusal), icon=":material/block:")
        else:
            frame = answer.slice(0, query.ROWS_SHOWN).to_pandas()
            st.caption(
                f"{answer.num_rows:,} rows"
                + (
                    f"; the first {query.ROWS_SHOWN:,} shown"
                    if answer.num_rows > query.ROWS_SHOWN
                    else ""
                )
            )
            table(frame, hide_index=True)
            figure = query_chart(frame)
            if figure is not None:
                st.plotly_chart(figure, width="stretch", theme=None)
            st.download_button(
                "Download the whole result (CSV)", lambda: safe_csv(answer.to_pandas()),
                csv_file_name("query", str(date.today())), mime="text/csv",
                icon=":material/download:", on_click="ignore",
            )  # fmt: skip
