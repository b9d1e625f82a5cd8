"""Plotly figure builders: one app template; each chart answers the question in its title."""

from __future__ import annotations

import html
import textwrap
from datetime import date
from itertools import accumulate

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from lib import explore
from lib.changes import MOVEMENT_LABELS, MOVEMENTS, OUTFLOWS, Changes
from lib.format import currency_symbol, money, percent

# A restrained palette: ink for what happened, grey for references (budget, last year), one
# accent for "behind" so that the eye finds the problem first.
INK = "#1f2a44"
REFERENCE = "#9aa3b2"
AHEAD = "#2e7d5b"
BEHIND = "#c2410c"
PROJECTION = "#4f6d9a"
GRID = "#e6e8ec"
# The reference grey, light enough for an ink bar drawn inside it to stand out.
PALE_REFERENCE = "rgba(154, 163, 178, 0.45)"
# The accent, pale: a warning that is not critical; and the blank of a cell with no warning.
PALE_BEHIND = "#f5c7a9"
NOTHING = "#f3f4f6"

pio.templates["closeboard"] = go.layout.Template(
    layout=go.Layout(
        font={"family": "Source Sans Pro, Helvetica, Arial, sans-serif", "size": 15, "color": INK},
        title={"font": {"size": 22, "color": INK}, "x": 0, "xanchor": "left"},
        colorway=[INK, PROJECTION, AHEAD, BEHIND, REFERENCE, "#7c5e99", "#b08d2a"],
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis={"showgrid": False, "linecolor": GRID, "zeroline": False, "automargin": True},
        yaxis={"gridcolor": GRID, "linecolor": GRID, "zeroline": False, "automargin": True},
        legend={"orientation": "h", "y": -0.15, "x": 0},
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        hoverlabel={"font": {"size": 14}},
    )
)
TEMPLATE = "closeboard"

# The same look for a room: black on white, type that reads from the back row, heavier lines.
PRESENTATION_INK = "#000000"
pio.templates["closeboard_presentation"] = go.layout.Template(
    layout=go.Layout(
        font={"family": "Source Sans Pro, Helvetica, Arial, sans-serif", "size": 24,
              "color": PRESENTATION_INK},
        title={"font": {"size": 36, "color": PRESENTATION_INK}, "x": 0, "xanchor": "left"},
        colorway=[PRESENTATION_INK, PROJECTION, AHEAD, BEHIND, REFERENCE],
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis={"showgrid": False, "linecolor": PRESENTATION_INK, "linewidth": 2,
               "zeroline": False, "automargin": True, "tickfont": {"size": 22}},
        yaxis={"gridcolor": "#c9ced6", "linecolor": PRESENTATION_INK, "zeroline": False,
               "automargin": True, "tickfont": {"size": 22}},
        legend={"orientation": "h", "y": -0.15, "x": 0, "font": {"size": 22}},
        margin={"l": 20, "r": 20, "t": 110, "b": 20},
        hoverlabel={"font": {"size": 20}},
    )
)  # fmt: skip
PRESENTATION_TEMPLATE = "closeboard_presentation"
# The toolbar's "download as PNG": a fixed 16:9 size at twice the pixels, so that a chart
# pasted into slides keeps its title legible whatever the size of the window it was taken from.
IMAGE_EXPORT_CONFIG = {
    "toImageButtonOptions": {"format": "png", "width": 1600, "height": 900, "scale": 2},
    "displaylogo": False,
}


def presented(figure: go.Figure, height: int) -> go.Figure:
    """A copy of the figure in the presentation look, `height` pixels high."""
    copy = go.Figure(figure)
    copy.update_layout(template=PRESENTATION_TEMPLATE, height=height)
    return copy


def money_axis(currency: str | None) -> dict:
    """Axis settings that write money as $1.2M."""
    return {"tickprefix": currency_symbol(currency), "tickformat": "~s"}


def pacing_chart(series, report, currency: str | None, title: str) -> go.Figure:
    """Cumulative bookings through the period: actual, the budget pace, last year at the same
    day, the run-rate projection to the period's end, and a marker at the as-of date."""
    figure = go.Figure()
    money_hover = f"{currency_symbol(currency)}%{{y:,.0f}}"
    if series.last_year is not None:
        figure.add_scatter(
            x=series.days, y=series.last_year, name=f"Last year ({report.last_year.label})",
            line={"color": REFERENCE, "width": 2, "dash": "dot"},
            hovertemplate=f"Last year: {money_hover}<extra></extra>",
        )  # fmt: skip
    if series.budget_pace is not None:
        figure.add_scatter(
            x=series.days, y=series.budget_pace, name="Budget pace",
            line={"color": REFERENCE, "width": 2},
            hovertemplate=f"Budget pace: {money_hover}<extra></extra>",
        )  # fmt: skip
    actual_days = series.days[: len(series.actual)]
    team = report.team
    if (
        series.actual
        and team.projection_run_rate is not None
        and report.to_date < report.period.end
    ):
        figure.add_scatter(
            x=[actual_days[-1], report.period.end],
            y=[series.actual[-1], team.projection_run_rate],
            name="Run-rate projection", line={"color": PROJECTION, "width": 2, "dash": "dash"},
            hovertemplate=f"Run-rate projection: {money_hover}<extra></extra>",
        )  # fmt: skip
    behind = team.ahead_by is not None and team.ahead_by < 0
    figure.add_scatter(
        x=actual_days, y=series.actual, name="Booked",
        line={"color": BEHIND if behind else AHEAD, "width": 4},
        hovertemplate=f"Booked: {money_hover}<extra></extra>",
    )  # fmt: skip
    if report.period.start <= report.to_date < report.period.end:
        figure.add_vline(x=report.to_date, line={"color": INK, "width": 1, "dash": "dot"})
        figure.add_annotation(
            x=report.to_date, y=1, yref="paper", showarrow=False, xanchor="left", yanchor="top",
            text=f" As of {report.to_date:%b %-d} · week {report.week} of {report.weeks}",
        )  # fmt: skip
    figure.update_layout(
        template=TEMPLATE, title=title, hovermode="x unified", yaxis=money_axis(currency),
        height=460,
    )  # fmt: skip
    return escape_text(figure)


def attainment_chart(report, currency: str | None, most_reps: int = 30) -> go.Figure:
    """Attainment by rep, best first, against the share of the budget due by now. A floor of
    more than `most_reps` reps shows the best and the furthest behind, half each; the title
    counts every rep."""
    symbol = currency_symbol(currency)
    every_rep = [rep for rep in report.reps if rep.pacing.attainment is not None]
    half = most_reps // 2
    reps = every_rep if len(every_rep) <= most_reps else every_rep[:half] + every_rep[-half:]
    names = [rep.owner for rep in reps]
    attainment = [rep.pacing.attainment for rep in reps]
    colours = [AHEAD if (rep.pacing.pacing_index or 0) >= 1 else BEHIND for rep in reps]
    labels = [
        f"{a:.0%} ({rep.pacing.pacing_index:.0%} of pace)"
        for a, rep in zip(attainment, reps, strict=True)
    ]
    figure = go.Figure(
        go.Bar(
            x=attainment, y=names, orientation="h", marker_color=colours, text=labels,
            textposition="outside", cliponaxis=False,
            customdata=[[rep.pacing.closed_to_date, rep.pacing.budget] for rep in reps],
            hovertemplate=(
                f"%{{y}}: %{{x:.0%}} of budget<br>{symbol}%{{customdata[0]:,.0f}}"
                f" of {symbol}%{{customdata[1]:,.0f}}<extra></extra>"
            ),
        )
    )  # fmt: skip
    figure.add_vline(x=report.elapsed_share, line={"color": INK, "width": 2, "dash": "dash"})
    figure.add_annotation(
        x=report.elapsed_share, y=1, yref="paper", yanchor="bottom", showarrow=False,
        text=f"due by now: {report.elapsed_share:.0%}",
    )  # fmt: skip
    behind = sum(1 for rep in every_rep if (rep.pacing.pacing_index or 0) < 1)
    figure.update_layout(
        template=TEMPLATE,
        title=f"{behind} of {len(every_rep)} reps behind pace",
        xaxis={"tickformat": ".0%", "range": [0, max([*attainment, 1]) * 1.3]},
        yaxis={"autorange": "reversed"},
        height=max(320, 34 * len(reps) + 120),
        showlegend=False,
    )  # fmt: skip
    return escape_text(figure)


def close_today_chart(reps, currency: str | None, title: str) -> go.Figure:
    """Per rep, the amount that can close now (pale bar) with its weighted part (ink) inside and
    the deal count at the end, in the order given (largest first, at the top)."""
    symbol = currency_symbol(currency)
    labels = [
        f"{count} deal{'' if count == 1 else 's'} · {money(total, currency)}"
        for count, total in zip(reps["count"], reps["total"], strict=True)
    ]
    hover = (
        f"%{{y}}: %{{customdata[0]}} deals, {symbol}%{{customdata[1]:,.0f}}, "
        f"weighted {symbol}%{{customdata[2]:,.0f}}<extra></extra>"
    )
    customdata = reps[["count", "total", "weighted"]].to_numpy()
    figure = go.Figure()
    figure.add_bar(
        x=reps["total"], y=reps["owner"], orientation="h", name="Amount",
        marker_color=PALE_REFERENCE, text=labels, textposition="outside",
        textfont={"color": INK}, cliponaxis=False, customdata=customdata, hovertemplate=hover,
    )  # fmt: skip
    figure.add_bar(
        x=reps["weighted"], y=reps["owner"], orientation="h",
        name="Weighted (amount × probability)", marker_color=INK, customdata=customdata,
        hovertemplate=hover,
    )  # fmt: skip
    figure.update_layout(
        template=TEMPLATE, title=title, barmode="overlay", bargap=0.3,
        xaxis={**money_axis(currency), "range": [0, max([*reps["total"], 1]) * 1.3]},
        yaxis={"autorange": "reversed", "ticksuffix": "  "},
        height=max(300, 34 * len(reps) + 150),
    )  # fmt: skip
    return escape_text(figure)


# How far the axis runs past the longest bar, for the text at its end ("$184K · Ananya Iyer"):
# at 1.35 (and 1.6) a presented chart on a 1280 px screen cut the rep's name off.
BAR_TEXT_ROOM = 1.8


def ranked_bars_chart(labels, amounts, texts, colour: str, currency: str | None,
                      title: str) -> go.Figure:  # fmt: skip
    """Amounts as horizontal bars in the order given (the first at the top), each with its
    text at the end of the bar."""
    figure = go.Figure(
        go.Bar(
            x=amounts, y=labels, orientation="h", marker_color=colour, text=texts,
            textposition="outside", cliponaxis=False,
            hovertemplate=f"%{{y}}: {currency_symbol(currency)}%{{x:,.0f}}<extra></extra>",
        )
    )  # fmt: skip
    figure.update_layout(
        template=TEMPLATE, title=title, showlegend=False,
        xaxis={**money_axis(currency), "range": [0, max([*amounts, 1]) * BAR_TEXT_ROOM]},
        yaxis={"autorange": "reversed", "ticksuffix": "  "},
        height=max(260, 36 * len(labels) + 130),
    )  # fmt: skip
    return escape_text(figure)


def top_wins_chart(wins, currency: str | None, title: str) -> go.Figure:
    """The quarter's largest wins, largest at the top, each named with its account and rep."""
    return deals_chart(wins, AHEAD, currency, title)


def largest_losses_chart(losses, currency: str | None, title: str) -> go.Figure:
    """The quarter's largest lost deals in the accent colour, as top_wins_chart draws wins."""
    return deals_chart(losses, BEHIND, currency, title)


def deals_chart(deals, colour: str, currency: str | None, title: str) -> go.Figure:
    """Deals as bars in the order given, each named with its account and rep."""
    labels = [
        f"{deal.name} ({deal.account})" if deal.account and deal.account not in deal.name
        else deal.name
        for deal in deals
    ]  # fmt: skip
    texts = [f"{money(deal.amount, currency)} · {deal.owner}" for deal in deals]
    return ranked_bars_chart(labels, [deal.amount for deal in deals], texts, colour, currency,
                             title)  # fmt: skip


def losses_chart(groups, currency: str | None, title: str) -> go.Figure:
    """Lost amount per group (the stage lost at, or the reason), the most money at the top."""
    texts = [f"{money(group.amount, currency)} · {group.deals} deal"
             f"{'' if group.deals == 1 else 's'}" for group in groups]  # fmt: skip
    return ranked_bars_chart([group.label for group in groups],
                             [group.amount for group in groups], texts, BEHIND, currency,
                             title)  # fmt: skip


def pipeline_waterfall_chart(changes: Changes, title: str) -> go.Figure:
    """The period's open pipeline at the older date, each movement into it (green) and out of
    it (the accent; won deals in green too: they left the pipeline for the best reason), and the
    pipeline at the newer date. The axis starts near the lowest level reached, so that a week's
    movements are not slivers on top of the whole pipeline."""
    waterfall, currency = changes.waterfall, changes.currency
    signed = [float(-getattr(waterfall, m) if m in OUTFLOWS else getattr(waterfall, m))
              for m in MOVEMENTS]  # fmt: skip
    labels = [f"Pipeline {changes.older.as_of:%-d %b}", *MOVEMENT_LABELS.values(),
              f"Pipeline {changes.newer.as_of:%-d %b}"]  # fmt: skip
    texts = [
        money(waterfall.start, currency),
        *(("+" if value > 0 else "") + money(value, currency) if value else "" for value in signed),
        money(waterfall.end, currency),
    ]
    levels = list(accumulate(signed, initial=float(waterfall.start)))
    hover = f"%{{x}}: {currency_symbol(currency)}%{{y:,.2f}}<extra></extra>"
    figure = go.Figure()
    figure.add_waterfall(
        x=labels, y=[float(waterfall.start), *signed, float(waterfall.end)],
        measure=["absolute", *["relative"] * len(signed), "total"], text=texts,
        textposition="outside", cliponaxis=False, hovertemplate=hover,
        increasing={"marker": {"color": AHEAD}}, decreasing={"marker": {"color": BEHIND}},
        totals={"marker": {"color": INK}}, connector={"line": {"color": REFERENCE, "width": 1}},
    )  # fmt: skip
    won = MOVEMENTS.index("won")
    # The won bar again, drawn over the first in green: a waterfall colours only by direction.
    figure.add_waterfall(
        x=[labels[won + 1]], y=[signed[won]], base=levels[won], measure=["relative"],
        hovertemplate=hover, connector={"visible": False},
        decreasing={"marker": {"color": AHEAD, "line": {"color": AHEAD, "width": 1}}},
    )  # fmt: skip
    low, high = min(levels), max(levels)
    span = (high - low) or high or 1
    figure.update_layout(
        template=TEMPLATE, title=title, showlegend=False, height=460, waterfallmode="overlay",
        xaxis={"categoryorder": "array", "categoryarray": labels},
        yaxis={**money_axis(currency), "range": [max(0.0, low - 1.5 * span), high + 0.3 * span]},
    )  # fmt: skip
    return escape_text(figure)


# What each colour of a rep's stack of deals is: the legend says it.
DEAL_BLOCKS = {
    BEHIND: "Largest deal, most of the rep's pipeline",
    INK: "Largest deal",
    REFERENCE: "Next largest deals",
    PALE_REFERENCE: "All smaller deals together",
}
# A key under the title, read before the chart; its entries explain colours, they hide nothing.
TOP_LEGEND = {"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom", "itemclick": False,
              "itemdoubleclick": False, "traceorder": "normal"}  # fmt: skip


def pipeline_by_deal_chart(blocks, concentration_warn: float, currency: str | None) -> go.Figure:
    """Each rep's open pipeline as a stack of its deals, largest first (the rest as one block):
    one giant block stands out in the accent colour when it is most of the rep's pipeline."""
    by_owner: dict[str, list] = {}
    for block in blocks:
        by_owner.setdefault(block.owner, []).append(block)
    totals = {owner: sum(block.amount for block in rep) for owner, rep in by_owner.items()}
    owners = sorted(by_owner, key=lambda owner: -totals[owner])
    concentrated = {
        owner
        for owner, rep in by_owner.items()
        if totals[owner] > 0 and rep[0].amount / totals[owner] >= concentration_warn
    }
    symbol = currency_symbol(currency)
    figure = go.Figure()
    drawn: set[str] = set()
    for position in range(max((len(rep) for rep in by_owner.values()), default=0)):
        stack = [(owner, by_owner[owner][position]) for owner in owners
                 if position < len(by_owner[owner])]  # fmt: skip
        colours = [
            BEHIND if position == 0 and owner in concentrated
            else INK if position == 0 else PALE_REFERENCE if block.name is None else REFERENCE
            for owner, block in stack
        ]  # fmt: skip
        labels = [
            f"{block.name} ({block.account})" if block.name and block.account
            else block.name or f"{block.deals} smaller deals"
            for _, block in stack
        ]  # fmt: skip
        figure.add_bar(
            y=[owner for owner, _ in stack], x=[block.amount for _, block in stack],
            orientation="h", marker={"color": colours, "line": {"color": "white", "width": 1}},
            customdata=labels,
            hovertemplate=f"%{{y}}: %{{customdata}} {symbol}%{{x:,.0f}}<extra></extra>",
            showlegend=False,
        )  # fmt: skip
        drawn.update(colours)
    for colour, meaning in DEAL_BLOCKS.items():
        if colour in drawn:
            figure.add_bar(x=[None], y=[None], marker_color=colour, name=meaning,
                           hoverinfo="skip")  # fmt: skip
    giants = len(concentrated)
    title = (
        f"{giants} rep{'' if giants == 1 else 's'} with one deal making up most of the pipeline"
        if giants
        else "No rep's pipeline hangs on one deal"
    )
    figure.update_layout(
        template=TEMPLATE, barmode="stack", title=title, xaxis=money_axis(currency),
        yaxis={"autorange": "reversed"}, height=max(320, 30 * len(owners) + 150),
        legend=TOP_LEGEND, margin={"t": 110},
    )  # fmt: skip
    return escape_text(figure)


# A warning cell's colour by severity, in the grid's colour scale from 0 (no warning) to 2.
SEVERITY_LEVEL = {"warn": 1, "critical": 2}
# The grid's key, under its title: what its colours and its labels are.
GRID_KEY = (
    f"<span style='color:{BEHIND}'>■</span> critical   "
    f"<span style='color:{PALE_BEHIND}'>■</span> warning   · each label: the money at stake"
)
# A hover sentence breaks into lines this long, so that it stays inside a screen.
HOVER_LINE = 70


def _hover_lines(label: str, sentence: str) -> tuple[list[str], str]:
    """A cell's hover as data (the label, then the sentence in lines) and its template."""
    lines = [label, *textwrap.wrap(sentence, HOVER_LINE)]
    template = "<b>%{customdata[0]}</b>" + "".join(
        f"<br>%{{customdata[{n}]}}" for n in range(1, len(lines))
    )
    return lines, template + "<extra></extra>"


def warning_grid_chart(grid: pd.DataFrame, currency: str | None) -> go.Figure:
    """lib.pipeline_warnings.warning_grid drawn as a grid: a row per rep (those with a critical
    warning first), a column per kind, each warning a cell in the accent colour (pale when not
    critical) labelled with the money at stake, its sentence on hover. Every cell is also a
    point that can be selected, whose point index is its place in rows × columns."""
    reps = list(grid["rep"].cat.categories)
    kinds = list(grid["kind"].cat.categories)
    cells = {(row.rep, row.kind): row for row in grid.itertuples()}
    points = [(rep, kind, cells.get((rep, kind))) for rep in reps for kind in kinds]
    figure = go.Figure()
    figure.add_heatmap(
        x=kinds, y=reps, zmin=0, zmax=2, showscale=False, xgap=3, ygap=3, hoverinfo="skip",
        z=[[SEVERITY_LEVEL[cells[rep, kind].severity] if (rep, kind) in cells else 0
            for kind in kinds] for rep in reps],
        # No money at stake shows as "–": deals without an amount put nothing known at stake.
        text=[[money(_known(cells[rep, kind].at_stake), currency) if (rep, kind) in cells
               else "" for kind in kinds] for rep in reps],
        texttemplate="%{text}", textfont={"size": 15},
        colorscale=[[0, NOTHING], [0.25, NOTHING], [0.25, PALE_BEHIND], [0.75, PALE_BEHIND],
                    [0.75, BEHIND], [1, BEHIND]],
    )  # fmt: skip
    labels = dict(zip(grid["kind"], grid["label"], strict=True))
    hovers = [
        _hover_lines(labels[kind], cell.message) if cell is not None
        else _hover_lines(labels[kind], f"{rep}: no warning of this kind.")
        for rep, kind, cell in points
    ]  # fmt: skip
    figure.add_scatter(
        x=[kind for _, kind, _ in points], y=[rep for rep, _, _ in points], mode="markers",
        marker={"symbol": "square", "size": 26, "color": "rgba(0, 0, 0, 0)"},
        customdata=[lines for lines, _ in hovers], hovertemplate=[t for _, t in hovers],
        showlegend=False,
    )  # fmt: skip
    critical = grid.loc[(grid["severity"] == "critical") & grid["owner"].notna(), "rep"].nunique()
    title = (
        f"{critical} rep{' has' if critical == 1 else 's have'} a critical warning"
        if critical
        else "No rep has a critical warning"
    )
    figure.update_layout(
        template=TEMPLATE, title={"text": title, "subtitle": {"text": GRID_KEY}},
        hovermode="closest", showlegend=False, height=30 * len(reps) + 150, margin={"t": 140},
        xaxis={"side": "top", "tickvals": kinds, "ticks": "", "fixedrange": True,
               "ticktext": ["<br>".join(textwrap.wrap(labels[kind], 14)) for kind in kinds]},
        yaxis={"autorange": "reversed", "showgrid": False, "ticks": "", "fixedrange": True,
               "ticksuffix": "  "},
    )  # fmt: skip
    return escape_text(figure)


def grid_owner(grid: pd.DataFrame, point_index: int) -> str | None:
    """The owner of the row of warning_grid_chart's point `point_index` (None: the team's)."""
    rep = grid["rep"].cat.categories[point_index // len(grid["kind"].cat.categories)]
    return grid.loc[grid["rep"] == rep, "owner"].iloc[0]


def coverage_chart(rows, target: float, critical: float) -> go.Figure:
    """This quarter's pipeline as a multiple of the budget still to close, against the 3× line."""
    figure = go.Figure(
        go.Bar(
            y=[row.owner for row in rows], x=[row.ratio for row in rows], orientation="h",
            marker_color=[BEHIND if row.ratio < critical else (PROJECTION if row.ratio < target
                          else AHEAD) for row in rows],
            text=[f"{row.ratio:.1f}×" for row in rows], textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{x:.1f}× the budget still to close<extra></extra>",
        )
    )  # fmt: skip
    figure.add_vline(x=target, line={"color": INK, "width": 2, "dash": "dash"})
    figure.add_annotation(x=target, y=1, yref="paper", yanchor="bottom", showarrow=False,
                          text=f"target {target:.1f}×")  # fmt: skip
    short = sum(1 for row in rows if row.ratio < target)
    figure.update_layout(
        template=TEMPLATE, title=f"{short} of {len(rows)} reps below {target:.1f}× coverage",
        yaxis={"autorange": "reversed"}, xaxis={"ticksuffix": "×"}, showlegend=False,
        height=max(320, 30 * len(rows) + 120),
    )  # fmt: skip
    return escape_text(figure)


def created_heatmap(weeks, created: dict[str, list[float]], currency: str | None) -> go.Figure:
    """Pipeline created per rep per week: a row that goes blank is a rep who stopped prospecting."""
    owners = list(created)
    symbol = currency_symbol(currency)
    figure = go.Figure(
        go.Heatmap(
            z=[created[owner] for owner in owners], x=weeks, y=owners,
            colorscale=[[0, "#f4f5f7"], [0.0001, "#dbe3ee"], [1, INK]], showscale=False,
            hovertemplate=f"%{{y}}, week of %{{x|%b %-d}}: {symbol}%{{z:,.0f}} created"
            "<extra></extra>",
            xgap=2, ygap=2,
        )
    )  # fmt: skip
    figure.update_layout(
        template=TEMPLATE, title="Pipeline created per week: blank rows have stopped prospecting",
        yaxis={"autorange": "reversed"}, xaxis={"tickformat": "%b %-d"},
        height=max(320, 26 * len(owners) + 120),
    )  # fmt: skip
    return escape_text(figure)


# Pipeline age bands from fresh to old: pale to ink, the oldest in the accent colour, so that
# stale pipeline is what the eye finds; grey where the age is not known.
AGE_COLOURS = ("#b8c4d6", PROJECTION, INK, BEHIND, REFERENCE)


def stage_age_chart(rows, bands: tuple[str, ...], currency: str | None, title: str) -> go.Figure:
    """One rep's open pipeline by stage (earliest stage at the top), each bar split into age
    bands; bands no deal falls in are left out of the legend."""
    symbol = currency_symbol(currency)
    stages = [row.stage for row in rows]
    figure = go.Figure()
    for index, (band, colour) in enumerate(zip(bands, AGE_COLOURS, strict=True)):
        if not any(row.counts[index] for row in rows):
            continue
        figure.add_bar(
            y=stages, x=[row.amounts[index] for row in rows], orientation="h", name=band,
            marker={"color": colour, "line": {"color": "white", "width": 1}},
            customdata=[row.counts[index] for row in rows],
            hovertemplate=f"%{{y}}, {band}: {symbol}%{{x:,.0f}} in %{{customdata}} deal(s)"
            "<extra></extra>",
        )  # fmt: skip
    figure.add_scatter(
        y=stages, x=[row.total for row in rows], mode="text", showlegend=False,
        text=[f"  {money(row.total, currency)} · {row.deals}" for row in rows],
        textposition="middle right", hoverinfo="skip", cliponaxis=False,
    )  # fmt: skip
    figure.update_layout(
        template=TEMPLATE, barmode="stack", title=title, bargap=0.3,
        xaxis={**money_axis(currency), "range": [0, max([row.total for row in rows] + [1]) * 1.25]},
        yaxis={"autorange": "reversed", "ticksuffix": "  "},
        legend={"title": {"text": "Age since created  "}, "traceorder": "normal"},
        height=max(240, 26 * len(rows) + 130), margin={"t": 50},
    )  # fmt: skip
    return escape_text(figure)


def referrals_chart(reps, target: float, highlight: str | None = None) -> go.Figure:
    """Deals won (W) against referral deals created (R) per rep, with the line R = target × W:
    reps under the line are not yet turning each sale into two more. Names would pile up in the
    crowd, so only the highlighted rep, the best and the lowest ratio are named; hover names the
    rest."""
    below = [rep for rep in reps if rep.figures.won_deals and
             (rep.figures.referral_ratio or 0) < target]  # fmt: skip
    ranked = sorted(
        (rep for rep in reps if rep.figures.referral_ratio is not None),
        key=lambda rep: rep.figures.referral_ratio,
    )
    named = {highlight} | ({ranked[0].owner, ranked[-1].owner} if ranked else set())
    figure = go.Figure(
        go.Scatter(
            x=[rep.figures.won_deals for rep in reps],
            y=[rep.figures.referral_deals_created for rep in reps],
            mode="markers+text", text=[rep.owner if rep.owner in named else "" for rep in reps],
            textposition="top center", textfont={"size": 13},
            marker={
                "size": [16 if rep.owner == highlight else 10 for rep in reps],
                "color": [INK if rep.owner == highlight else BEHIND if rep in below else AHEAD
                          for rep in reps],
                "line": {"color": "white", "width": 1},
            },
            customdata=[[rep.owner, rep.figures.referral_ratio] for rep in reps],
            hovertemplate="%{customdata[0]}: %{x} won, %{y} referral deals created "
            "(%{customdata[1]:.1f} per win)<extra></extra>",
            showlegend=False,
        )
    )  # fmt: skip
    most_won = max([rep.figures.won_deals for rep in reps] + [1])
    figure.add_scatter(
        x=[0, most_won * 1.1], y=[0, target * most_won * 1.1], mode="lines",
        line={"color": INK, "width": 2, "dash": "dash"}, hoverinfo="skip",
        name=f"Target: {target:g} referral deals per deal won",
    )  # fmt: skip
    title = (
        f"{len(below)} of {len(reps)} reps below {target:g} referral deals per deal won"
        if below
        else f"Every rep makes {target:g} referral deals per deal won"
    )
    highest = max([rep.figures.referral_deals_created or 0 for rep in reps] + [1])
    figure.update_layout(
        template=TEMPLATE, title=title, height=520,
        xaxis={"title": {"text": "Deals won (W)"}, "range": [0, most_won * 1.1]},
        yaxis={"title": {"text": "Referral deals created (R)"},
               "range": [0, max(highest, target * most_won) * 1.05]},
    )  # fmt: skip
    return escape_text(figure)


# Plotly reads <a href=…>, <b>, <br> in any text as markup; text from a file goes through this.
TEXT_ATTRIBUTES = ("x", "y", "text", "customdata", "labels", "ids", "hovertext")


def _escaped(value: object) -> object:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list | tuple) or (isinstance(value, np.ndarray) and value.dtype == object):
        return [_escaped(item) for item in value]
    return value


def escape_text(figure: go.Figure) -> go.Figure:
    """The figure with every name and label from the data shown as typed: a rep called
    <a href="http://…">Ann</a> reads so on the chart and never becomes a link."""
    for trace in figure.data:
        for attribute in TEXT_ATTRIBUTES:
            if attribute in trace and trace[attribute] is not None:
                trace[attribute] = _escaped(trace[attribute])
    if figure.layout.title and figure.layout.title.text:
        figure.layout.title.text = html.escape(figure.layout.title.text, quote=False)
    return figure


def value_axis(kind: str, currency: str | None) -> dict:
    """Axis settings for one of Explore's measures: money, a share, a count or days."""
    if kind == "money":
        return money_axis(currency)
    if kind == "share":
        return {"tickformat": ".0%"}
    return {"tickformat": ",~r", "ticksuffix": " days" if kind == "days" else ""}


def _hover_value(kind: str, currency: str | None, axis: str) -> str:
    if kind == "money":
        return f"{currency_symbol(currency)}%{{{axis}:,.0f}}"
    if kind == "share":
        return f"%{{{axis}:.0%}}"
    return f"%{{{axis}:,.0f}}" + (" days" if kind == "days" else "")


def _short_value(value: float | None, kind: str, currency: str | None) -> str:
    if value is None:
        return ""
    if kind == "money":
        return money(value, currency)
    if kind == "share":
        return f"{value:.0%}"
    return f"{value:,.0f}"


def explore_chart(result, currency: str | None) -> go.Figure:
    """Explore's answer in the shape that fits it: a line over time (one per split value, in
    the order of lib.explore.series, so that a selected point finds its deals), bars for one set
    of categories, a heatmap for two."""
    cells = result.cells
    kind = result.measure.kind
    figure = go.Figure()
    if result.by.is_time:
        for split, rows in explore.series(result):
            name = split if result.split else result.measure.label
            figure.add_scatter(
                x=list(rows["by"]), y=list(rows["value"]), mode="lines+markers",
                name=html.escape(name, quote=False), marker={"size": 9},
                hovertemplate=f"%{{x}}: {_hover_value(kind, currency, 'y')}"
                "<extra>%{fullData.name}</extra>",
            )  # fmt: skip
        figure.update_layout(yaxis=value_axis(kind, currency), xaxis={"type": "category"})
        height = 460
    elif result.split is None:
        figure.add_bar(
            x=list(cells["value"]), y=list(cells["by"]), orientation="h",
            # "All others" in grey: many values added up, not one to compare with the rest.
            marker_color=[REFERENCE if by == explore.ALL_OTHERS else INK for by in cells["by"]],
            hovertemplate=f"%{{y}}: {_hover_value(kind, currency, 'x')}<extra></extra>",
        )  # fmt: skip
        figure.update_layout(
            xaxis=value_axis(kind, currency),
            yaxis={"autorange": "reversed", "type": "category"},
        )
        height = max(320, 30 * len(cells) + 120)
    else:
        rows = list(result.by_totals["by"])
        columns = list(result.split_totals["split"])
        values = {(row.by, row.split): row.value for row in cells.itertuples()}
        z = [[values.get((row, column)) for column in columns] for row in rows]
        # "All others" adds up many values: the scale follows the named ones, so that they
        # are not all the same pale shade beside it.
        named = [
            value
            for row, line in zip(rows, z, strict=True)
            for column, value in zip(columns, line, strict=True)
            if value is not None and explore.ALL_OTHERS not in (row, column)
        ]
        figure.add_heatmap(
            z=z, x=columns, y=rows, zmin=min(named, default=None), zmax=max(named, default=None),
            text=[[_short_value(value, kind, currency) for value in line] for line in z],
            texttemplate="%{text}", textfont={"size": 12},
            colorscale=[[0, "#eef1f6"], [1, PROJECTION]], showscale=False, xgap=2, ygap=2,
            hovertemplate=f"%{{y}} · %{{x}}: {_hover_value(kind, currency, 'z')}<extra></extra>",
        )  # fmt: skip
        figure.update_layout(
            yaxis={"autorange": "reversed", "type": "category"},
            xaxis={"type": "category", "side": "top"},
        )
        height = max(320, 34 * len(rows) + 140)
    figure.update_layout(template=TEMPLATE, title=result.question, height=height)
    return escape_text(figure)


# A query result with more rows than this is a list, not something to draw.
QUERY_CHART_MAX_ROWS = 200


def query_chart(frame: pd.DataFrame) -> go.Figure | None:
    """A SQL result drawn when its shape fits: a label column then a number column, as bars, or
    as a line when the labels are dates; None for any other shape."""
    if frame.shape[1] != 2 or frame.empty or len(frame) > QUERY_CHART_MAX_ROWS:
        return None
    labels, values = frame.columns
    # Sums of amounts come back as decimals: numbers all the same, not text.
    numbers = pd.to_numeric(frame[values], errors="coerce")
    if (
        pd.api.types.is_bool_dtype(frame[values])
        or numbers.isna().sum() > frame[values].isna().sum()
        or pd.api.types.is_numeric_dtype(frame[labels])
    ):
        return None
    points = [None if pd.isna(number) else float(number) for number in numbers]
    figure = go.Figure()
    if pd.api.types.is_datetime64_any_dtype(frame[labels]) or all(
        isinstance(label, date) for label in frame[labels]
    ):
        figure.add_scatter(
            x=list(frame[labels]), y=points, mode="lines+markers", line={"color": INK}
        )
    else:
        figure.add_bar(
            x=points, orientation="h",
            y=[explore.BLANK if pd.isna(label) else str(label) for label in frame[labels]],
            marker_color=INK,
        )  # fmt: skip
        figure.update_layout(
            yaxis={"autorange": "reversed", "type": "category"},
            height=max(320, 26 * len(frame) + 120),
        )
    figure.update_layout(template=TEMPLATE, title=f"{values} by {labels}")
    return escape_text(figure)


def _known(amount: float | None) -> float | None:
    """An amount at stake, or None (shown as –) when it is missing or nothing is known."""
    return None if amount is None or pd.isna(amount) or not amount else amount


def funnel_chart(found, title: str) -> go.Figure:
    """The deals of a funnel (lib/funnel.py) that reached each stage, earliest at the top, with
    the share that went on to the next beside each bar; the last bar is the deals won."""
    stages = found.stages
    labels = [stage.stage for stage in stages] + ["Won"]
    counts = [stage.reached for stage in stages] + [found.won_deals]
    texts = [
        f"  {stage.reached:,}"
        + (f" · {percent(stage.to_next)} on" if stage.to_next is not None else "")
        for stage in stages
    ] + [f"  {found.won_deals:,}"]
    figure = go.Figure(
        go.Bar(
            y=labels, x=counts, orientation="h",
            marker={"color": [*[PROJECTION] * len(stages), AHEAD]},
            text=texts, textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{x:,} deal(s)<extra></extra>",
        )
    )  # fmt: skip
    figure.update_layout(
        template=TEMPLATE, title=title, bargap=0.3,
        xaxis={"title": "Deals", "range": [0, max([*counts, 1]) * 1.3]},
        yaxis={"autorange": "reversed", "ticksuffix": "  "},
        height=max(240, 32 * len(labels) + 120), margin={"t": 50},
    )  # fmt: skip
    return escape_text(figure)
