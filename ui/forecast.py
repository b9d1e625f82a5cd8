"""The forecast section of "Are we on pace?": each method's projection, its backtest, and the
math behind it."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from lib.forecast import (
    Forecast,
    MethodResult,
    accuracy_sentence,
    backtest_rows,
    forecast,
    saved_snapshots,
    sources_sentence,
)
from lib.format import as_percentages, markdown_text, money, percent
from lib.session import Session
from lib.store import StoreError
from ui.messages import error_text
from ui.session import kept_until_changed, store_state
from ui.tables import money_column, percent_column, table

# Columns of a method's deals shown as money.
MONEY_COLUMNS = {"amount": "Amount", "weighted": "Weighted", "expected": "Expected (amount × p)"}
# Columns of a method's deals that are shares, shown as whole percentages.
SHARE_COLUMNS = {"probability": "Probability", "p": "p: share of deals alike won"}


def _remembered_forecast(data: Session) -> tuple[Forecast, str | None]:
    """The forecast and why no snapshot could be read, worked out again only when the deals,
    the settings or the store change: it reads every earlier quarter, a second or two that no
    click on the page should pay again."""
    key = (data.settings, json.dumps(data.rates, sort_keys=True), data.currency,
           store_state(data.store))  # fmt: skip
    return kept_until_changed("forecast", data.resolved.deals, key, lambda: _forecast_of(data))


def _forecast_of(data: Session) -> tuple[Forecast, str | None]:
    try:
        snapshots = saved_snapshots(data)
    except StoreError as error:
        return forecast(data, [], stage_entries=data.stage_entries), error_text(error)
    return forecast(data, snapshots, stage_entries=data.stage_entries), None


def forecast_section(data: Session) -> None:
    """The forecast of the as-of date's quarter for the whole team, with its backtest."""
    currency = data.currency
    result, store_error = _remembered_forecast(data)
    if store_error:
        st.warning(f"The backtest reads no saved snapshot: {store_error}", icon=":material/info:")
    st.subheader(f"Forecast for {result.period.label}: how each method has done before")
    st.markdown(markdown_text(accuracy_sentence(result)))
    if result.backtest_note:
        st.caption(markdown_text(result.backtest_note))
    columns = st.columns(len(result.methods))
    for column, method in zip(columns, result.methods, strict=True):
        column.metric(
            method.method.label,
            money(method.projection.value, currency),
            "not backtested"
            if method.mean_abs_error is None
            else f"within {percent(method.mean_abs_error)} on average",
            delta_color="gray",
            delta_arrow="off",
            help=method.projection.reason,
        )
    _backtest_table(result, currency)
    for method in result.methods:
        _see_the_math(method, currency)


def _backtest_table(result: Forecast, currency: str | None) -> None:
    rows = pd.DataFrame(backtest_rows(result))
    if rows.empty:
        st.info("No earlier quarter to backtest on: the export holds none from its first day.")
        return
    # A method with no past projection at all has its reason in a caption, not a column of "–".
    labels = {
        m.method.key: m.method.label
        for m in result.methods
        if any(row.projected.value is not None for row in m.backtest)
    }
    errors = [f"{key}_error" for key in labels]
    rows = rows[["period", "as_of", "actual", *[c for k in labels for c in (k, f"{k}_error")]]]
    config = {"period": "Quarter", "as_of": st.column_config.DateColumn("Projected on")}
    config["actual"] = money_column("Booked", currency)
    for key, label in labels.items():
        config[key] = money_column(label, currency)
        config[f"{key}_error"] = percent_column(f"{label} error", signed=True)
    table(as_percentages(rows, errors), hide_index=True, column_config=config)
    sources = sources_sentence(result)
    if sources:
        st.caption(markdown_text(sources))
    for method in result.methods:
        missing = [row for row in method.backtest if row.projected.value is None]
        if missing:
            also = f" (and {len(missing) - 1} more quarters)" if len(missing) > 1 else ""
            reason = missing[0].projected.reason
            st.caption(
                markdown_text(
                    f"{method.method.label} – in {missing[0].period.label}{also}: {reason}"
                )
            )


def _see_the_math(method: MethodResult, currency: str | None) -> None:
    projection = method.projection
    with st.expander(f"See the math: {method.method.label}"):
        st.markdown(markdown_text(f"Formula: {method.method.formula}."))
        read_from = f" Read from {projection.source}." if projection.source else ""
        st.caption(markdown_text(f"Needs {method.method.needs}.{read_from}"))
        if projection.reason:
            st.info(markdown_text(projection.reason), icon=":material/info:")
        inputs = pd.DataFrame(
            [{"Input": i.label, "Value": i.text(currency)} for i in projection.inputs]
        )
        if not inputs.empty:
            table(inputs, hide_index=True)
        if projection.deals is not None and projection.deals.num_rows:
            deals = projection.deals.to_pandas()
            config = {
                key: money_column(label, currency)
                for key, label in MONEY_COLUMNS.items()
                if key in deals.columns
            }
            for key, label in SHARE_COLUMNS.items():
                config[key] = percent_column(label)
            table(as_percentages(deals, SHARE_COLUMNS), hide_index=True, column_config=config)
        elif projection.deals is not None:
            st.caption("No deal is behind it.")
        if projection.sql:
            st.code(projection.sql, language="sql")
