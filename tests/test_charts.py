"""Charts show names from a file as typed: Plotly would read tags in them as markup."""

from types import SimpleNamespace

from lib.charts import attainment_chart, escape_text, pipeline_by_deal_chart
from lib.pacing import Pacing, RepPacing
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


def test_attainment_of_a_large_floor_shows_the_best_and_the_furthest_behind_and_counts_all():
    # 40 reps from 100 % down to 61 % attainment, on pace from 80 % (pacing index = a / 0.8).
    reps = [
        RepPacing(f"Rep {n:02d}", None, pacing_of(budget=100.0, closed=100.0 - n))
        for n in range(40)
    ]
    report = SimpleNamespace(reps=reps, elapsed_share=0.8)
    (bar,) = attainment_chart(report, "USD", most_reps=10).data
    assert bar.y == (*(f"Rep {n:02d}" for n in range(5)), *(f"Rep {n:02d}" for n in range(35, 40)))
    # Behind pace: attainment under 80 %, reps 21 to 39.
    assert attainment_chart(report, "USD", most_reps=10).layout.title.text == (
        "19 of 40 reps behind pace"
    )
    assert len(attainment_chart(report, "USD").data[0].y) == 30


def pacing_of(budget: float, closed: float) -> Pacing:
    expected = budget * 0.8
    return Pacing(
        budget=budget, closed_to_date=closed, expected_to_date=expected,
        pacing_index=closed / expected, last_year_to_date=0.0, yoy=None,
        projection_run_rate=None, projection_weighted=closed, projection_commit=closed,
        projection_best_case=closed, gap=budget - closed, required_per_business_day=None,
        achieved_per_business_day=None,
    )  # fmt: skip
