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
