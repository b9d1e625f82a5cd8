"""Charts show names from a file as typed: Plotly would read tags in them as markup."""

from lib.charts import escape_text, pipeline_by_deal_chart
from lib.warnings import PipelineBlock

HOSTILE = '<a href="http://evil.example">Ann</a>'


def test_a_rep_named_like_a_link_is_escaped_on_the_axis_and_in_the_hover():
    blocks = [PipelineBlock(HOSTILE, "Deal <b>1</b>", "Laurel & Pine", 100.0, 1)]
    figure = pipeline_by_deal_chart(blocks, 0.5, "USD")
    (bar,) = figure.data
    assert bar.y == ('&lt;a href="http://evil.example"&gt;Ann&lt;/a&gt;',)
    assert bar.customdata == ("Deal &lt;b&gt;1&lt;/b&gt; (Laurel &amp; Pine)",)


def test_numbers_and_our_own_hover_templates_are_left_alone():
    import plotly.graph_objects as go

    figure = escape_text(go.Figure(go.Bar(x=[1.5, 2], y=["a", "b"], hovertemplate="%{y}<br>")))
    assert figure.data[0].x == (1.5, 2)
    assert figure.data[0].hovertemplate == "%{y}<br>"


def explore_answer(rows, split=None):
    """An Explore answer of (row, split, value) cells, for the chart alone."""
    import pandas as pd

    from lib.explore import MEASURES, Dimension, ExploreResult, View

    cells = pd.DataFrame(rows, columns=["by", "split", "value"]).assign(deals=1)
    by_totals = cells.groupby("by", sort=False, as_index=False)[["value", "deals"]].sum()
    split_totals = cells.groupby("split", sort=False, as_index=False)[["value", "deals"]].sum()
    return ExploreResult(
        view=View(), question=f"Won amount by {HOSTILE}", measure=MEASURES["amount"],
        by=Dimension("owner", "Owner", "owner"), split=split, cells=cells,
        by_totals=by_totals, split_totals=split_totals, total=None, deals=len(rows),
    )  # fmt: skip


def test_explore_bars_escape_names_and_grey_all_others():
    from lib.charts import REFERENCE, explore_chart

    figure = explore_chart(explore_answer([(HOSTILE, None, 5.0), ("All others", None, 9.0)]), "USD")
    (bar,) = figure.data
    assert bar.type == "bar"
    assert bar.y == ('&lt;a href="http://evil.example"&gt;Ann&lt;/a&gt;', "All others")
    assert bar.marker.color[1] == REFERENCE
    assert figure.layout.title.text.startswith("Won amount by &lt;a href=")


def test_explore_two_categories_make_a_heatmap_scaled_on_the_named_values():
    from lib.charts import explore_chart
    from lib.explore import Dimension

    answer = explore_answer(
        [("Ann", "East", 10.0), ("Ann", "West", 30.0), ("All others", "East", 500.0)],
        split=Dimension("team", "Team", "team"),
    )
    (heatmap,) = explore_chart(answer, "USD").data
    assert heatmap.type == "heatmap"
    assert [list(row) for row in heatmap.z] == [[10.0, 30.0], [500.0, None]]
    assert (heatmap.zmin, heatmap.zmax) == (10.0, 30.0)
    assert [list(row) for row in heatmap.text] == [["$10", "$30"], ["$500", ""]]


def test_a_query_result_of_a_label_and_a_decimal_is_drawn_as_bars():
    from decimal import Decimal

    import pandas as pd

    from lib.charts import query_chart

    frame = pd.DataFrame({"lead_source": ["Web", None], "pipeline": [Decimal("1.50"), Decimal(2)]})
    (bar,) = query_chart(frame).data
    assert (bar.x, bar.y) == ((1.5, 2.0), ("Web", "(blank)"))
    assert query_chart(frame.assign(third=1)) is None
    assert query_chart(pd.DataFrame({"a": ["x"], "b": ["not a number"]})) is None
