"""The warnings page on the sample data: the planted stories are found and named."""

from datetime import date

from streamlit.testing.v1 import AppTest

from sample_data.generate import (
    GIANT_DEAL_AMOUNT,
    GIANT_DEAL_REP,
    GONE_DARK_REPS,
    STALLED_REP,
    WHALE_ACCOUNT,
)
from tests.test_app import APP, upload_as_of

PAGE = "pages/pipeline_warnings.py"


def open_warnings(**state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def messages(at: AppTest) -> list[str]:
    return [element.value for element in (*at.error, *at.warning)]


def test_the_rep_hanging_on_one_giant_deal_is_the_first_critical_warning():
    at = open_warnings()
    assert at.title[0].value == "Who is about to drive off the cliff?"
    first = at.error[0].value
    assert first.startswith("**One big deal** · ")
    assert GIANT_DEAL_REP.replace(" ", " ") in first
    assert f"$1\\.8M, {WHALE_ACCOUNT}" in first
    assert GIANT_DEAL_AMOUNT == 1_800_000


def test_the_stalled_and_gone_dark_reps_are_warned_about():
    text = " ".join(messages(open_warnings()))
    assert f"**Stopped prospecting** · {STALLED_REP}\\: no deal created in" in text
    quiet = [m for m in messages(open_warnings()) if "Gone dark" in m or "Late-stage" in m]
    for rep in GONE_DARK_REPS:
        assert any(f"· {rep}\\:" in message for message in quiet), rep


def test_filters_narrow_the_list_to_one_rep_and_one_kind():
    at = open_warnings()
    at.selectbox[1].set_value(STALLED_REP).run()
    assert all(STALLED_REP in message for message in messages(at))
    at.multiselect[0].set_value(["prospecting_stall"]).run()
    assert len(messages(at)) == 1
    assert at.subheader[0].value == "No critical warning, 1 to watch"


def test_an_export_without_activity_dates_says_which_checks_were_skipped():
    export = (
        b"Opportunity Owner,Stage,Amount,Close Date\n"
        b"Ann,Negotiation/Review,1000,2026-12-01\nAnn,Prospecting,10,2026-12-01\n"
    )
    at = open_warnings(source="My uploads")
    at.file_uploader(key="upload_opportunities").upload("deals.csv", export, "text/csv").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    captions = " ".join(caption.value for caption in at.caption)
    assert "Gone dark: not checked, the export has no last-activity date." in captions
    assert "Stopped prospecting: not checked, the export has no created date." in captions
    assert any("One big deal" in message for message in messages(at))


def test_a_large_floor_lists_the_first_reps_and_charts_and_says_how_many_more():
    # 45 reps, each with one open deal whose close date passed: one slipping warning and one
    # critical concentration warning (the deal is all of the rep's pipeline) each, 90 in all.
    rows = ["Owner,Deal Name,Stage,Amount,Close Date,Probability,Opportunity ID"]
    rows += [
        f"Rep {n:02d},Deal {n},Prospecting,{1000 * n},2026-11-02,10,D-{n}" for n in range(1, 46)
    ]
    at = open_warnings(source="My uploads")
    upload_as_of(at, "floor.csv", "\n".join(rows).encode(), date(2026, 11, 20))
    assert at.subheader[0].value == "45 critical warnings, 45 to watch"
    assert len(at.main.expander) == 30
    assert len(messages(at)) == 60
    captions = [caption.value for caption in at.caption]
    assert (
        "The first 30 of 45 reps, the most severe and the most money at stake first: pick a "
        "team, a rep or a kind above to see the others." in captions
    )
    assert (
        "The 30 reps with the most open pipeline, of 45: pick a team or a rep above for others."
        in captions
    )
    assert (
        "The 30 reps with the most pressing warnings, of 45: pick a team or a rep above for "
        "others." in captions
    )


# Open deals without an amount or a close date (as in the Maven export): most checks cannot run.
NO_AMOUNTS = b"""Opportunity ID,Opportunity Owner,Stage,Amount,Close Date,Created Date
w1,Ann,Closed Won,1000,2026-10-05,2026-09-01
o1,Ann,Prospecting,,,2026-10-01
o2,Bo,Negotiation/Review,,,2026-10-02
"""


def test_checks_that_could_not_run_are_the_headline_not_an_all_clear():
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["source"] = "My uploads"
    at.run()
    at.switch_page(PAGE).run()
    upload_as_of(at, "maven.csv", NO_AMOUNTS, date(2026, 11, 20))
    headline = at.subheader[0].value
    assert headline == "10 of 11 checks could not run"
    assert "every rep's pipeline passes every check" not in headline
    explained = [w.value for w in at.warning if w.value.startswith("No warning from the checks")]
    assert explained == [
        "No warning from the checks that ran; the others need what this data lacks: no open "
        "deal has an amount; no open deal has a close date; the export has no last-activity "
        "date; no quota file gives the reps a budget; nothing dates when the open deals "
        "entered their stages: save each week's export as a snapshot, or load a Data Export "
        "with OpportunityHistory or an export with stage-change dates."
    ]
    assert "Not drawn: no open deal here has an amount to draw it by." in [i.value for i in at.info]


def test_the_qbr_and_the_1_1_say_what_they_could_not_check_or_draw_without_amounts():
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["source"] = "My uploads"
    at.run()
    upload_as_of(at, "maven.csv", NO_AMOUNTS, date(2026, 11, 20))
    at.switch_page("pages/qbr.py").run()
    assert not at.exception, at.exception
    assert "Not checked: no open deal has an amount." in [i.value for i in at.info]
    assert not [s for s in at.success if "carries too much" in s.value]
    at.switch_page("pages/coaching.py").run()
    assert not at.exception, at.exception
    assert "1 open deal, none with an amount: not drawn." in [m.value for m in at.markdown]


def test_the_page_opens_on_the_grid_the_five_to_look_at_and_next_quarter_in_one_line():
    at = open_warnings()
    # Week 8 of 13: next quarter's 20 thin pipelines are one line, not counted in the headline.
    assert at.subheader[0].value == "10 critical warnings, 33 to watch"
    markdown = [element.value for element in at.markdown]
    assert (
        "**Up ahead:** 20 of 20 reps have under 2× their Q1 FY2027 budget in pipeline, as usual "
        "before the quarter's last month; each rep's line is in their group below." in markdown
    )
    (look,) = [text for text in markdown if text.startswith("**This week, look at:**")]
    sentences = look.splitlines()[1:]
    assert len(sentences) == 5
    assert sentences[0].startswith(f"1. {GIANT_DEAL_REP}\\: 95 % of the open pipeline is one deal")
    assert all("covers" in sentence for sentence in sentences[1:])


def test_the_list_is_one_collapsed_group_per_rep_critical_first_and_keeps_next_quarter():
    at = open_warnings()
    labels = [expander.label for expander in at.main.expander]
    assert len(labels) == 20
    assert labels[0] == f"**{GIANT_DEAL_REP}** · :red[1 critical] · 2 to watch"
    # The 10 reps with a critical warning, then the 10 without.
    assert [":red[1 critical]" in label for label in labels] == [True] * 10 + [False] * 10
    first_group = [element.value for element in at.main.expander[0].children.values()]
    assert [message.split(" · ")[0] for message in first_group] == [
        "**One big deal**", "**Thin pipeline next quarter**", "**Stopped prospecting**",
    ]  # fmt: skip


def test_picking_a_rep_opens_their_group_alone_and_drops_the_team_line():
    at = open_warnings()
    at.selectbox(key="warnings_rep").set_value(GIANT_DEAL_REP).run()
    assert [expander.label for expander in at.main.expander] == [
        f"**{GIANT_DEAL_REP}** · :red[1 critical] · 2 to watch"
    ]
    assert not [m for m in at.markdown if m.value.startswith("**Up ahead:**")]
    assert at.subheader[0].value == "1 critical warning, 1 to watch"
