"""Pipeline warnings: each rule just inside and just outside its threshold, worked by hand."""

import json
from dataclasses import fields, replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from lib.db import NO_PUSHES, create_set_apart_views, open_database
from lib.load.opportunities import load_opportunities
from lib.load.targets import load_targets
from lib.pipeline_warnings import (
    MISSING,
    RULES,
    RULES_BY_KIND,
    WHOLE_TEAM,
    PipelineBlock,
    PipelineWarning,
    RepFacts,
    TeamFacts,
    chase_mode,
    concentration,
    coverage,
    coverage_by_rep,
    created_by_week,
    empty_pipeline,
    gone_dark,
    largest_pipelines,
    look_at,
    next_period_coverage,
    next_quarter_budgeted,
    next_quarter_is_early,
    pipeline_figures,
    pipeline_warnings,
    prospecting_stall,
    pushed_by_rep,
    pushed_repeatedly,
    rep_pipelines,
    shown_warning,
    slipped_by_rep,
    slipping,
    team_rep_share,
    team_top_deals,
    thin_next_quarter,
    top_weighted_deals,
    warning_grid,
    warning_html,
)
from lib.settings import Settings
from lib.stage_history import ENTRIES_SCHEMA, stage_days

AS_OF = date(2026, 11, 20)
SETTINGS = Settings(as_of=AS_OF)
IN_QUARTER = date(2026, 12, 15)
NEXT_QUARTER = date(2027, 2, 1)


def deal(amount, probability=0.5, quiet_days=0, close=IN_QUARTER, owner="Ann"):
    """An open deal as the opportunities view holds it, quiet for `quiet_days` days."""
    return {"owner": owner, "amount": amount, "probability": probability, "close_date": close,
            "last_activity_date": AS_OF - timedelta(days=quiet_days)}  # fmt: skip


def database(deals: list[dict]) -> duckdb.DuckDBPyConnection:
    """A connection whose opportunities view holds these open deals (named Deal 1, Deal 2…)."""
    rows = [
        {"source_row": n, "opportunity_id": f"d{n}", "name": f"Deal {n}", "account": "Acme",
         "status": "open", "team": None, "created_date": AS_OF - timedelta(days=200), **deal}
        for n, deal in enumerate(deals, start=1)
    ]  # fmt: skip
    con = duckdb.connect()
    con.register("deals", pa.Table.from_pylist(rows))
    con.execute(
        "CREATE VIEW opportunities AS SELECT * REPLACE (CAST(amount AS DECIMAL(18, 2)) AS amount)"
        " FROM deals"
    )
    create_set_apart_views(con)
    con.register("push_counts", NO_PUSHES)
    return con


def pipeline_of(*deals: dict):
    (rep,) = rep_pipelines(database(list(deals)), SETTINGS, with_deal_ids=True)
    return rep


def facts(pipeline=None, **figures) -> RepFacts:
    """What a check reads of Ann: her open pipeline (none unless given) and the figures given."""
    return RepFacts(pipeline or empty_pipeline("Ann"), **figures)


def test_hhi_and_effective_number_of_deals_on_a_worked_example():
    # Shares 0.6, 0.3, 0.1: HHI = 0.36 + 0.09 + 0.01 = 0.46, worth 1 / 0.46 = 2.17 equal deals.
    rep = pipeline_of(deal(60), deal(30), deal(10))
    assert rep.herfindahl == pytest.approx(0.46)
    assert rep.effective_number_of_deals == pytest.approx(2.1739, abs=1e-4)
    assert pipeline_of(*[deal(25)] * 4).effective_number_of_deals == pytest.approx(4)


@pytest.mark.parametrize(
    ("amounts", "severity"),
    [([49, 26, 25], None), ([50, 50], "warn"), ([69, 31], "warn"), ([70, 30], "critical")],
)
def test_concentration_warns_from_half_and_is_critical_from_70_percent(amounts, severity):
    warning = concentration(facts(pipeline_of(*[deal(a) for a in amounts])), SETTINGS, "USD")
    assert (warning.severity if warning else None) == severity


def test_concentration_names_the_deal_and_the_effective_number():
    rep = pipeline_of(*[deal(a, owner="Dmitri Volkov") for a in (1_850_000, 150_000, 100_000)])
    warning = concentration(facts(rep), SETTINGS, "USD")
    assert warning.value == pytest.approx(1_850_000 / 2_100_000)
    assert warning.opportunity_ids == ("d1",)
    hhi = (1850 / 2100) ** 2 + (150 / 2100) ** 2 + (100 / 2100) ** 2
    assert warning.message == (
        "Dmitri Volkov: 88 % of the open pipeline is one deal, Deal 1 ($1.9M, Acme). "
        f"Effective number of deals: {1 / hhi:.1f}."
    )


@pytest.mark.parametrize(
    ("pipeline", "severity"), [(300, None), (299, "warn"), (150, "warn"), (149, "critical")]
)
def test_coverage_below_three_times_warns_and_below_one_and_a_half_is_critical(pipeline, severity):
    warning = coverage(facts(pipeline_of(deal(pipeline)), budget=100.0), SETTINGS, "USD")
    assert (warning.severity if warning else None) == severity


def test_coverage_counts_only_deals_closing_this_quarter():
    rep = pipeline_of(deal(200), deal(1000, close=NEXT_QUARTER))
    assert coverage(facts(rep, budget=100.0), SETTINGS, "USD").value == pytest.approx(2.0)


def test_coverage_target_from_win_rate_scales_the_critical_line():
    # An 18 % win rate needs 5.6×; critical at half of that, 2.8×.
    def covered(amount):
        return coverage(facts(pipeline_of(deal(amount)), budget=100.0, win_rate=0.18), SETTINGS,
                        "USD")  # fmt: skip

    assert covered(560) is None
    assert covered(500).severity == "warn"
    assert covered(270).severity == "critical"


def test_next_period_coverage_warns_below_two_times_its_budget():
    enough = facts(pipeline_of(deal(200, close=NEXT_QUARTER)), next_budget=100.0)
    assert next_period_coverage(enough, SETTINGS, "USD") is None
    thin = pipeline_of(deal(199, close=NEXT_QUARTER), deal(500))
    warning = next_period_coverage(
        facts(thin, next_budget=100.0, next_quarter_label="Q1 FY2027"), SETTINGS, "USD"
    )
    assert warning.value == pytest.approx(1.99)
    assert warning.message == (
        "Ann: Q1 FY2027 pipeline is 2.0× its $100 budget (target 2.0×): $199 in 1 deal."
    )


def stall(created_recently: float, created_before: float, last_created: date | None):
    """The stall check of Ann, who has a budget, on what she created lately."""
    return prospecting_stall(
        facts(budget=100.0, created_recently=created_recently, created_before=created_before,
              last_created=last_created),
        SETTINGS,
        "USD",
    )  # fmt: skip


def test_prospecting_stall_below_half_the_usual_months_creation():
    assert stall(50.0, 300.0, AS_OF) is None
    warning = stall(49.0, 300.0, AS_OF)
    assert warning.value == pytest.approx(0.49)
    assert warning.severity == "warn"


def test_prospecting_stall_when_nothing_was_created_for_21_days():
    quiet = stall(0.0, 0.0, AS_OF - timedelta(days=21))
    assert quiet.value == 21
    assert quiet.message == "Ann: no deal created in 21 days (since Oct 30)."
    assert stall(100.0, 0.0, AS_OF - timedelta(days=20)) is None


def test_gone_dark_from_30_percent_of_pipeline_quiet_for_14_days():
    below = pipeline_of(deal(29, quiet_days=14), deal(71, quiet_days=13))
    assert gone_dark(facts(below), SETTINGS, "USD") is None
    warning = gone_dark(
        facts(pipeline_of(deal(30, quiet_days=14), deal(70, quiet_days=13))), SETTINGS, "USD"
    )
    assert warning.value == pytest.approx(0.3)
    assert warning.opportunity_ids == ("d1",)


def test_gone_dark_names_three_deals_and_counts_the_rest():
    warning = gone_dark(
        facts(pipeline_of(*[deal(100 - n, quiet_days=30) for n in range(5)])), SETTINGS, "USD"
    )
    assert warning.message.endswith(
        "Deal 1 ($100, Acme), Deal 2 ($99, Acme), Deal 3 ($98, Acme) and 2 more."
    )
    assert len(warning.opportunity_ids) == 5


def test_named_deals_are_the_largest_three_and_equal_amounts_go_by_id():
    past = AS_OF - timedelta(days=1)
    amounts = [40, 90, 70, 90, 10]  # d2 and d4 tie: d2 first
    con = database([deal(a, quiet_days=30, close=past) for a in amounts])
    (slipped,) = slipped_by_rep(con, SETTINGS).values()
    assert [d.opportunity_id for d in slipped.largest] == ["d2", "d4", "d3"]
    (pipeline,) = rep_pipelines(database([deal(a, quiet_days=30) for a in amounts]), SETTINGS)
    assert [d.opportunity_id for d in pipeline.dark_deals] == ["d2", "d4", "d3"]
    assert pipeline.dark_count == 5


def test_chase_mode_needs_60_percent_and_21_quiet_days():
    quiet = pipeline_of(deal(100, 0.59, 30), deal(100, 0.9, 20))
    assert chase_mode(facts(quiet), SETTINGS, "USD") is None
    chased = pipeline_of(deal(100, 0.6, 21), deal(100, 0.9, 40))
    warning = chase_mode(facts(chased), SETTINGS, "USD")
    assert warning.value == 2
    assert warning.severity == "warn"


def test_slipping_counts_open_deals_whose_close_date_has_passed():
    con = database([deal(100, close=AS_OF - timedelta(days=1)), deal(50, close=AS_OF)])
    slipped = slipped_by_rep(con, SETTINGS, with_deal_ids=True)["Ann"]
    warning = slipping(facts(slipped=slipped), SETTINGS, "USD")
    assert warning.value == 1
    assert warning.message == (
        "Ann: 1 open deal with a close date in the past ($100): Deal 1 ($100, Acme). "
        "Close them or move them."
    )
    assert slipping(facts(), SETTINGS, "USD") is None


def test_pushed_names_open_deals_pushed_twice_or_more_the_most_pushed_first():
    con = database([deal(100), deal(50), deal(70), deal(30, owner="Bo")])
    con.register(
        "push_counts",
        pa.table({"opportunity_id": ["d1", "d2", "d3", "d4"], "pushes": [2, 3, 1, 2]}),
    )
    pushed = pushed_by_rep(con, SETTINGS, with_deal_ids=True)
    warning = pushed_repeatedly(facts(pushed=pushed["Ann"]), SETTINGS, "USD")
    assert (warning.kind, warning.severity, warning.value) == ("pushed", "warn", 2)
    assert warning.message == (
        "Ann: 2 open deals with a close date pushed 2 times or more ($150): Deal 2 ($50, Acme), "
        "Deal 1 ($100, Acme). Ask what is really in the way."
    )
    assert warning.opportunity_ids == ("d2", "d1")
    assert pushed["Bo"].ids == ("d4",)
    once = replace(SETTINGS, pushes_to_flag=1)
    assert pushed_by_rep(con, once, with_deal_ids=True)["Ann"].ids == ("d2", "d1", "d3")
    assert pushed_repeatedly(facts(), SETTINGS, "USD") is None


def test_an_exports_own_pushes_column_does_not_stand_in_for_the_counted_pushes():
    con = database([{**deal(100), "pushes": 0}, {**deal(50), "pushes": 7}])
    con.register("push_counts", pa.table({"opportunity_id": ["d1"], "pushes": [3]}))
    (pushed,) = pushed_by_rep(con, SETTINGS, with_deal_ids=True).values()
    assert pushed.ids == ("d1",)


def test_the_report_warns_about_pushed_deals_only_with_history():
    deals = load_opportunities(EXPORT, "export.csv").deals
    targets = load_targets(TARGETS, "targets.csv", SETTINGS).targets
    without = pipeline_warnings(open_database(deals, targets), SETTINGS, "USD").warnings
    assert not [w for w in without if "pushed" in w.message]
    history = pa.table({"opportunity_id": ["b2"], "pushes": pa.array([2], pa.int32())})
    con = open_database(deals, targets, push_counts=history)
    found = pipeline_warnings(con, SETTINGS, "USD", with_deal_ids=True)
    pushed = [w for w in found.warnings if "pushed" in w.message]
    assert [(w.owner, w.kind, w.opportunity_ids) for w in pushed] == [("Bo", "pushed", ("b2",))]


def test_without_deal_ids_the_warnings_are_the_same_and_only_the_named_deals_carry_ids():
    deals = load_opportunities(EXPORT, "export.csv").deals
    targets = load_targets(TARGETS, "targets.csv", SETTINGS).targets
    history = pa.table({"opportunity_id": ["b2"], "pushes": pa.array([2], pa.int32())})
    con = open_database(deals, targets, push_counts=history)
    listed = pipeline_warnings(con, SETTINGS, "USD", with_deal_ids=True).warnings
    counted = pipeline_warnings(con, SETTINGS, "USD").warnings
    assert [(w.owner, w.kind, w.message, w.at_stake) for w in counted] == [
        (w.owner, w.kind, w.message, w.at_stake) for w in listed
    ]
    assert any(len(w.opportunity_ids) > 1 for w in listed)
    # Rules that name their deals (the largest one, the top three) keep those IDs either way.
    named = {"concentration", "team_top_deals", "team_rep_share"}
    assert {w.kind for w in counted if w.opportunity_ids} <= named


def test_team_top_three_deals_from_40_percent_of_weighted_pipeline():
    # Top three by weighted amount: 39 + 15.25 + 15.25 = 69.5 of 100.
    def top_deals(con):
        return team_top_deals(TeamFacts((), top_weighted_deals(con, SETTINGS)), SETTINGS, "USD")

    carried = database([deal(39, 1.0), *[deal(61 / 4, 1.0) for _ in range(4)]])
    assert top_deals(carried).value == pytest.approx(0.695)
    spread = database([deal(10, 1.0) for _ in range(10)])
    assert top_deals(spread) is None  # 30 %


def test_team_rep_share_from_40_percent_of_open_pipeline():
    def reps(*totals):
        con = database([deal(total, owner=name) for name, total in zip("ABC", totals, strict=True)])
        return TeamFacts(tuple(rep_pipelines(con, SETTINGS)))

    assert team_rep_share(reps(39, 31, 30), SETTINGS, "USD") is None
    warning = team_rep_share(reps(40, 30, 30), SETTINGS, "USD")
    assert (warning.scope, warning.owner, warning.value) == ("team", None, pytest.approx(0.4))
    assert warning.message == "A holds 40 % of the team's open pipeline ($40 of $100)."


# --- The whole page's warnings on a small export ---------------------------------------------

EXPORT = b"""Opportunity ID,Opportunity Owner,Stage,Amount,Probability (%),Close Date,Created Date,Last Activity
a1,Ann,Negotiation/Review,90000,90,2026-12-15,2026-09-01,2026-11-19
a2,Ann,Prospecting,10000,10,2026-12-20,2026-11-10,2026-11-19
b1,Bo,Closed Won,50000,100,2026-10-15,2026-08-01,2026-10-15
b2,Bo,Needs Analysis,5000,20,2026-11-01,2026-10-01,2026-11-19
c1,Cy,Closed Lost,,0,2026-10-15,2026-08-01,2026-10-15
"""
TARGETS = b"owner,period,amount\nAnn,2026-Q4,40000\nBo,2026-Q4,40000\n"


def warnings_for(export: bytes = EXPORT, settings: Settings = SETTINGS):
    con = open_database(
        load_opportunities(export, "export.csv").deals,
        load_targets(TARGETS, "targets.csv", settings).targets,
    )
    return pipeline_warnings(con, settings, "USD")


def test_the_page_lists_critical_first_then_by_money_at_stake():
    found = warnings_for()
    kinds = [(w.owner, w.kind, w.severity) for w in found.warnings]
    # Ann: one 90K deal is 90 % of her pipeline (critical). Bo met his budget (no coverage
    # warning) but his 5K deal closed on 1 November and is still open.
    assert kinds[0] == ("Ann", "concentration", "critical")
    assert ("Bo", "slipping", "warn") in kinds
    assert not [k for k in kinds if k[0] == "Bo" and k[1] == "coverage"]
    severities = [w.severity for w in found.warnings]
    assert severities == sorted(severities, key=lambda s: s != "critical")


def test_a_rep_with_no_open_deals_gets_no_pipeline_warnings():
    assert not [w for w in warnings_for().warnings if w.owner == "Cy"]


def test_checks_that_need_a_missing_column_say_they_were_skipped():
    without_activity = b"\n".join(
        b",".join(line.split(b",")[:7]) for line in EXPORT.strip().split(b"\n")
    )
    found = warnings_for(without_activity)
    assert found.skipped == {
        "gone_dark": "the export has no last-activity date",
        "chase_mode": "the export has no last-activity date",
        "stalled": MISSING["stage_history"],
    }
    assert not [w for w in found.warnings if w.kind in ("gone_dark", "chase_mode")]


def test_without_a_quota_file_coverage_checks_are_skipped():
    con = open_database(load_opportunities(EXPORT, "export.csv").deals)
    found = pipeline_warnings(con, SETTINGS, "USD")
    assert found.skipped["coverage"] == "no quota file gives the reps a budget"
    assert not [w for w in found.warnings if "coverage" in w.kind]


def test_coverage_uses_the_pipeline_closing_this_quarter_against_the_budget_left():
    # Ann: 40K budget, nothing won; 100K closing this quarter covers 2.5×: a warning, not critical.
    ann = next(w for w in warnings_for().warnings if w.owner == "Ann" and w.kind == "coverage")
    assert (ann.value, ann.severity) == (pytest.approx(2.5), "warn")


def test_thresholds_come_from_the_settings():
    # Ann's largest deal is 90 % of her pipeline; Bo's only open deal is 100 % of his.
    lenient = replace(SETTINGS, concentration_warn=0.95, concentration_critical=0.99)
    flagged = [
        w.owner for w in warnings_for(settings=lenient).warnings if w.kind == "concentration"
    ]
    assert flagged == ["Bo"]


def export_figures():
    con = open_database(
        load_opportunities(EXPORT, "export.csv").deals,
        load_targets(TARGETS, "targets.csv", SETTINGS).targets,
    )
    return con, pipeline_figures(con, SETTINGS)


def test_coverage_by_rep_lists_reps_with_budget_left_thinnest_first():
    # Ann: 100K closing this quarter against 40K left (2.5×). Bo won 50K of his 40K: no row.
    _, figures = export_figures()
    assert [
        (row.owner, row.pipeline, row.remaining, row.ratio) for row in coverage_by_rep(figures)
    ] == [("Ann", 100000.0, 40000.0, 2.5)]


def test_created_by_week_gives_every_rep_thirteen_mondays_blank_when_nothing_was_created():
    # Ann's 90K deal was created on Tuesday 1 September (week of Monday 31 August, the 2nd of the
    # 13 weeks ending with the as-of date's week, Monday 16 November) and her 10K deal on
    # Tuesday 10 November (week of Monday 9 November, the 12th).
    con, figures = export_figures()
    weeks, by_rep = created_by_week(con, SETTINGS, figures.owners)
    assert (weeks[0], weeks[-1], len(weeks)) == (date(2026, 8, 24), date(2026, 11, 16), 13)
    # Cy's only deal was created on 1 August, before the first week: a blank row.
    assert list(by_rep) == figures.owners and set(by_rep) == {"Ann", "Bo", "Cy"}
    assert by_rep["Cy"] == [0.0] * 13
    assert by_rep["Ann"] == [0.0, 90000.0] + [0.0] * 9 + [10000.0, 0.0]
    # Bo's 5K deal of 1 October falls in the week of Monday 28 September.
    assert by_rep["Bo"][weeks.index(date(2026, 9, 28))] == 5000.0
    assert sum(by_rep["Bo"]) == 5000.0


def test_largest_pipelines_keeps_every_block_of_the_reps_with_the_most_pipeline():
    blocks = [
        PipelineBlock("Ann", "Big", None, 50.0, 1),
        PipelineBlock("Ann", None, None, 10.0, 4),
        PipelineBlock("Bo", "Mid", None, 55.0, 1),
        PipelineBlock("Cy", "Small", None, 60.0, 1),
    ]
    # Totals: Ann 60 (two blocks), Bo 55, Cy 60: the two largest are Ann and Cy, tied, by name.
    assert largest_pipelines(blocks, 2) == [blocks[0], blocks[1], blocks[3]]
    assert largest_pipelines(blocks, 5) == blocks


# --- The rules and how a warning is shown ----------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def test_each_kind_has_one_rule_whose_thresholds_are_settings():
    kinds = [rule.kind for rule in RULES]
    assert len(kinds) == len(set(kinds))
    settings_fields = {field.name for field in fields(Settings)}
    for rule in RULES:
        assert rule.scope in ("rep", "team"), rule.kind
        for threshold in rule.thresholds:
            assert threshold.field in settings_fields, threshold
            assert threshold.unit in ("share", "ratio", "days", "count"), threshold


def test_a_deal_both_overdue_and_pushed_is_two_warnings_of_two_kinds():
    # Bo's b2 closed on 1 November and is still open; its close date was pushed twice.
    history = pa.table({"opportunity_id": ["b2"], "pushes": pa.array([2], pa.int32())})
    con = open_database(
        load_opportunities(EXPORT, "export.csv").deals,
        load_targets(TARGETS, "targets.csv", SETTINGS).targets,
        push_counts=history,
    )
    found = pipeline_warnings(con, SETTINGS, "USD", with_deal_ids=True).warnings
    flagged = [w for w in found if w.owner == "Bo" and w.kind in ("slipping", "pushed")]
    assert sorted((w.kind, w.rule.label, w.opportunity_ids) for w in flagged) == [
        ("pushed", "Close date keeps moving", ("b2",)),
        ("slipping", "Slipping", ("b2",)),
    ]


def test_the_json_reference_names_every_kind_of_warning():
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert [rule.kind for rule in RULES if f"`{rule.kind}`" not in reference] == []


def test_a_warning_is_shown_with_its_label_and_its_sentence_as_typed():
    warning = PipelineWarning("rep", "*Ann*", "concentration", "critical", 0.9,
                              "*Ann*: 90 % is <b>one</b> deal.", ("d1",), 90.0)  # fmt: skip
    shown = shown_warning(warning)
    assert (shown.critical, shown.icon) == (True, ":material/report:")
    assert shown.markdown == "**One big deal** · \\*Ann\\*\\: 90 % is \\<b\\>one\\</b\\> deal\\."
    assert warning_html(warning, "warn") == (
        '<p class="warn critical"><b>One big deal (critical):</b> '
        "*Ann*: 90 % is &lt;b&gt;one&lt;/b&gt; deal.</p>"
    )
    calm = replace(warning, kind="gone_dark", severity="warn")
    assert (shown_warning(calm).critical, shown_warning(calm).icon) == (False, ":material/warning:")
    assert warning_html(calm, "risk").startswith('<p class="risk"><b>Gone dark:</b> ')


def test_the_report_lists_every_check_that_could_not_run_and_why(tmp_path, capsys):
    from lib.cli import main
    from tests.test_pipeline_warnings_page import NO_AMOUNTS

    export = tmp_path / "maven.csv"
    export.write_bytes(NO_AMOUNTS)
    assert main(["report", "--opportunities", str(export), "--as-of", "2026-11-20"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["warnings"] == []
    skipped = {entry["kind"]: entry["reason"] for entry in printed["warnings_skipped"]}
    assert skipped == {
        "concentration": "no open deal has an amount",
        "coverage": "no open deal has an amount and no open deal has a close date and no "
        "quota file gives the reps a budget",
        "next_period_coverage": "no open deal has an amount and no open deal has a close date "
        "and no quota file gives the reps a budget",
        "gone_dark": "no open deal has an amount and the export has no last-activity date",
        "chase_mode": "the export has no last-activity date",
        "slipping": "no open deal has a close date",
        "pushed": "no open deal has a close date",
        "stalled": MISSING["stage_history"],
        "team_top_deals": "no open deal has an amount",
        "team_rep_share": "no open deal has an amount",
    }


def test_the_money_at_stake_of_thin_coverage_is_the_pipeline_missing_to_reach_the_target():
    # $110 closing against $100 still to close: 1.1× of a 3× target, $190 short of $300.
    warning = coverage(facts(pipeline_of(deal(110)), budget=100.0), SETTINGS, "USD")
    assert (warning.severity, warning.at_stake) == ("critical", 190.0)
    thin = facts(pipeline_of(deal(150, close=NEXT_QUARTER)), next_budget=100.0)
    assert next_period_coverage(thin, SETTINGS, "USD").at_stake == 50.0


# --- The grid and the lines above it, from hand-built warnings ---------------------------------


def warned(owner, kind, severity="warn", at_stake=100.0):
    scope = "team" if owner is None else "rep"
    message = f"{owner or 'The team'}: {kind}."
    return PipelineWarning(scope, owner, kind, severity, 0.5, message, (), at_stake)


FLOOR = (
    warned("Bo", "slipping", at_stake=900.0),
    warned("Ann", "next_period_coverage", at_stake=50.0),
    warned(None, "team_rep_share", at_stake=5_000.0),
    warned("Ann", "coverage", "critical", 300.0),
    warned("Cy", "concentration", "critical", 800.0),
    warned("Ann", "gone_dark", at_stake=2_000.0),
)


def test_the_grid_has_a_row_per_rep_critical_first_and_a_column_per_kind_in_rules_order():
    grid = warning_grid(FLOOR)
    # Cy's critical warning has more at stake than Ann's; then the team's $5,000, then Bo.
    assert list(grid["rep"].cat.categories) == ["Cy", "Ann", WHOLE_TEAM, "Bo"]
    assert list(grid["kind"].cat.categories) == [
        "concentration", "coverage", "next_period_coverage", "gone_dark", "slipping",
        "team_rep_share",
    ]  # fmt: skip
    assert [tuple(row) for row in grid.itertuples(index=False)] == [
        ("Cy", "Cy", "concentration", "One big deal", "critical", 800.0, "Cy: concentration."),
        ("Ann", "Ann", "coverage", "Thin coverage", "critical", 300.0, "Ann: coverage."),
        ("Ann", "Ann", "next_period_coverage", "Thin pipeline next quarter", "warn", 50.0,
         "Ann: next_period_coverage."),
        ("Ann", "Ann", "gone_dark", "Gone dark", "warn", 2_000.0, "Ann: gone_dark."),
        (None, WHOLE_TEAM, "team_rep_share", "Team hangs on one rep", "warn", 5_000.0,
         "The team: team_rep_share."),
        ("Bo", "Bo", "slipping", "Slipping", "warn", 900.0, "Bo: slipping."),
    ]  # fmt: skip


def test_a_grid_of_no_warnings_is_an_empty_frame_with_its_columns():
    grid = warning_grid([])
    assert grid.empty
    assert list(grid.columns) == ["owner", "rep", "kind", "label", "severity", "at_stake",
                                  "message"]  # fmt: skip


def test_this_week_look_at_the_five_critical_warnings_with_the_most_at_stake():
    critical = [warned(f"Rep {n}", "coverage", "critical", 100.0 * n) for n in range(1, 8)]
    assert [w.owner for w in look_at([*FLOOR, *critical])] == [
        "Cy", "Rep 7", "Rep 6", "Rep 5", "Rep 4",
    ]  # fmt: skip
    assert look_at([warned("Bo", "slipping")]) == []


@pytest.mark.parametrize(
    ("as_of", "early"),
    [(date(2026, 10, 1), True), (date(2026, 11, 30), True), (date(2026, 12, 1), False),
     (date(2026, 12, 31), False)],
)  # fmt: skip
def test_early_in_a_quarter_means_before_its_last_month(as_of, early):
    assert next_quarter_is_early(Settings(as_of=as_of)) is early


def test_the_last_month_is_the_fiscal_quarters():
    # A fiscal year from February: 31 December is in the second month of November to January.
    assert next_quarter_is_early(Settings(as_of=date(2026, 12, 31), fiscal_year_start_month=2))


def test_next_quarters_thin_pipeline_is_one_line_for_the_team():
    thin = [warned(rep, "next_period_coverage") for rep in ("Ann", "Bo", "Cy")]
    assert thin_next_quarter([*thin, *FLOOR], 20, SETTINGS) == (
        "3 of 20 reps have under 2× their Q1 FY2027 budget in pipeline"
    )
    assert thin_next_quarter(FLOOR, 1, SETTINGS) == (
        "1 of 1 rep has under 2× their Q1 FY2027 budget in pipeline"
    )
    assert thin_next_quarter([warned("Bo", "slipping")], 20, SETTINGS) is None


def test_the_reps_budgeted_next_quarter_are_those_the_quota_file_gives_one():
    con = open_database(
        load_opportunities(EXPORT, "export.csv").deals,
        load_targets(b"owner,period,amount\nAnn,2027-Q1,100\nBo,2026-Q4,100\n", "t.csv",
                     SETTINGS).targets,
    )  # fmt: skip
    assert next_quarter_budgeted(con, SETTINGS, ["Ann", "Bo", "Cy"]) == {"Ann"}


# --- Stalled: in a stage twice the usual time --------------------------------------------------


def stalled_warnings():
    """EXPORT with stage history: Negotiation/Review was left after 10, 20 and 30 days by three
    deals in the trailing four quarters (median 20). Ann's a1 entered it 40 days before 20 Nov
    (2 × 20: stalled); Bo's b2 entered Needs Analysis 39 days ago, whose median is 20 too (one
    deal left it after 20 days): under 40, not stalled."""
    deals = load_opportunities(EXPORT, "export.csv")
    entries = pa.table(
        {
            "opportunity_id": ["w1", "w1", "w2", "w2", "w3", "w3", "n1", "n1", "a1", "b2"],
            "stage": ["Negotiation/Review", "Closed Won", "Negotiation/Review", "Closed Lost",
                      "Negotiation/Review", "Prospecting", "Needs Analysis", "Prospecting",
                      "Negotiation/Review", "Needs Analysis"],
            "entered_on": [date(2026, 3, 1), date(2026, 3, 11), date(2026, 4, 1),
                           date(2026, 4, 21), date(2026, 5, 1), date(2026, 5, 31),
                           date(2026, 6, 1), date(2026, 6, 21), date(2026, 10, 11),
                           date(2026, 10, 12)],
        },
        schema=ENTRIES_SCHEMA,
    )  # fmt: skip
    days = stage_days(
        entries, deals.deals, deals.report.stage_rules, date(2026, 1, 1), SETTINGS.as_of, 2.0
    )
    con = open_database(
        deals.deals, load_targets(TARGETS, "targets.csv", SETTINGS).targets, stage_days=days
    )
    return pipeline_warnings(con, SETTINGS, "USD", with_deal_ids=True)


def test_a_deal_in_its_stage_twice_the_usual_days_is_stalled_and_one_day_less_is_not():
    found = stalled_warnings()
    assert "stalled" not in found.skipped
    stalled_found = [w for w in found.warnings if w.kind == "stalled"]
    assert [(w.owner, w.value, w.opportunity_ids) for w in stalled_found] == [("Ann", 1.0, ("a1",))]
    assert stalled_found[0].message == (
        "Ann: 1 open deal stalled, in its stage 2× the usual time or longer ($90K): a1 ($90K)."
    )
    assert RULES_BY_KIND["stalled"].question


def test_without_stage_history_the_stalled_check_is_skipped_not_all_clear():
    found = warnings_for()
    assert found.skipped["stalled"] == MISSING["stage_history"]
    assert not [w for w in found.warnings if w.kind == "stalled"]
