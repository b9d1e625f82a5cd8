"""Plotly figure builders: one app template; each chart answers the question in its title."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from lib.format import currency_symbol

# A restrained palette: ink for what happened, grey for references (budget, last year), one
# accent for "behind" so that the eye finds the problem first.
INK = "#1f2a44"
REFERENCE = "#9aa3b2"
AHEAD = "#2e7d5b"
BEHIND = "#c2410c"
PROJECTION = "#4f6d9a"
GRID = "#e6e8ec"

pio.templates["closeboard"] = go.layout.Template(
    layout=go.Layout(
        font={"family": "Source Sans Pro, Helvetica, Arial, sans-serif", "size": 15, "color": INK},
        title={"font": {"size": 22, "color": INK}, "x": 0, "xanchor": "left"},
        colorway=[INK, PROJECTION, AHEAD, BEHIND, REFERENCE, "#7c5e99", "#b08d2a"],
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis={"gridcolor": GRID, "linecolor": GRID, "zeroline": False},
        yaxis={"gridcolor": GRID, "linecolor": GRID, "zeroline": False},
        legend={"orientation": "h", "y": -0.15, "x": 0},
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        hoverlabel={"font": {"size": 14}},
    )
)
TEMPLATE = "closeboard"


def money_axis(currency: str | None) -> dict:
    """Axis settings that write money as $1.2M."""
    return {"tickprefix": currency_symbol(currency), "tickformat": "~s"}
