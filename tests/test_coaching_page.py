"""The coaching page on the sample data, every figure checked against the sample files read
with the csv module alone."""

import csv
import io
import re
import statistics
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from streamlit.testing.v1 import AppTest

from lib.format import money, percent
from lib.load.opportunities import load_opportunities
from lib.store import save_snapshot, snapshot_of_export, store_path
from tests.test_app import APP, ROOT, upload_as_of

PAGE = "pages/coaching.py"
SAMPLE_DATE = date(2026, 11, 20)
# The four quarters of FY2026 (fiscal year = calendar year), through the sample's as-of date.
WINDOW = (date(2026, 1, 1), SAMPLE_DATE)
REFERRAL_WORDS = ("referral", "referred", "word of mouth", "customer introduction")


@dataclass(frozen=True)
class SampleDeal:
    name: str
    owner: str
    account: str
    stage: str
    amount: Decimal
    close: date
    created: date
    lead_source: str
    last_activity: date | None


def sample_deals() -> list[SampleDeal]:
    text = (ROOT / "sample_data" / "opportunities.csv").read_text(encoding="utf-8")

    def day(cell: str) -> date | None:
        return datetime.strptime(cell, "%m/%d/%Y").date() if cell else None

    return [
        SampleDeal(
            row["Opportunity Name"],
            row["Opportunity Owner"],
            row["Account Name"],
            row["Stage"],
            Decimal(row["Amount"].replace("$", "").replace(",", "") or "0"),
            day(row["Close Date"]),
            day(row["Created Date"]),
            row["Lead Source"],
            day(row["Last Activity"]),
        )  # fmt: skip
        for row in csv.DictReader(io.StringIO(text[: text.index("\n\n")]))
    ]


def in_window(day: date) -> bool:
    return WINDOW[0] <= day <= WINDOW[1]


def expected_figures(deals: list[SampleDeal], words=REFERRAL_WORDS) -> dict[str, object]:
    """The coaching figures of these deals, by PRODUCT.md's definitions."""
    everyone = sample_deals()
    won = [d for d in deals if d.stage == "Closed Won" and in_window(d.close)]
    lost = [d for d in deals if d.stage == "Closed Lost" and in_window(d.close)]
    created = [d for d in deals if in_window(d.created)]
    referrals = [d for d in created if any(w in d.lead_source.lower() for w in words)]
    repeat = [
        d
        for d in won
        if any(
            e.stage == "Closed Won" and e.account.strip().lower() == d.account.strip().lower()
            and e.close < d.close
            for e in everyone
        )
    ]  # fmt: skip
    cycles = [(d.close - d.created).days for d in won if d.created <= d.close]
    return {
        "won": len(won),
        "referrals": len(referrals),
        "ratio": len(referrals) / len(won),
        "repeat": len(repeat),
        "win_rate": len(won) / (len(won) + len(lost)),
        "avg_deal_size": float(sum(d.amount for d in won) / len(won)),
        "sales_cycle": statistics.median(cycles),
        "pipeline_created": float(sum(d.amount for d in created)),
    }


def of(owner: str) -> list[SampleDeal]:
    return [deal for deal in sample_deals() if deal.owner == owner]


def unescaped(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def open_page(**state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page(PAGE)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def table_with(at: AppTest, column: str):
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def four_quarters(at: AppTest, rep: str) -> dict[str, tuple[str, str]]:
    frame = next(t.value for t in at.table if "Team median" in t.value.columns)
    return {
        unescaped(label): (unescaped(mine), unescaped(median))
        for label, mine, median in frame[["", rep.replace(" ", " "), "Team median"]].to_numpy()
    }


def test_the_page_opens_on_the_first_reps_1_1_sheet():
    at = open_page()
    assert at.title[0].value == "How do we coach each rep?"
    assert at.selectbox(key="coach_rep").value == "Aisha Okafor"
    assert at.header[0].value == "1:1 with Aisha Okafor"
    labels = [button.label for button in at.get("download_button")]
    assert "Download the 1:1 sheet (HTML)" in labels


def test_an_as_of_date_in_the_past_opens_the_sheet_though_deals_were_created_after_it():
    at = open_page()
    at.date_input(key="as_of").set_value(date(2026, 8, 15)).run()
    assert not at.exception, at.exception
    assert at.header[0].value == "1:1 with Aisha Okafor"
    assert any("15 Aug 2026" in caption.value for caption in at.caption)


def test_the_1_1_sheet_shows_the_reps_pacing_and_four_quarters_against_the_team():
    grace = of("Grace Liu")
    at = open_page(coach_rep="Grace Liu")
    assert at.header[0].value == "1:1 with Grace Liu"
    booked = sum(d.amount for d in grace if d.stage == "Closed Won"
                 and date(2026, 10, 1) <= d.close <= SAMPLE_DATE)  # fmt: skip
    with (ROOT / "sample_data" / "quotas.csv").open(encoding="utf-8") as quotas:
        budget = next(float(row["amount"]) for row in csv.DictReader(quotas)
                      if row["owner"] == "Grace Liu" and row["period"] == "2026-Q4")  # fmt: skip
    metrics = {metric.label: (metric.value, metric.delta) for metric in at.metric}
    assert metrics["Booked to date"] == (
        money(booked),
        f"{percent(float(booked) / budget)} of {money(budget)} budget",
    )
    figures = expected_figures(grace)
    shown = four_quarters(at, "Grace Liu")
    assert shown["Win rate"][0] == percent(figures["win_rate"])
    assert shown["Average deal size"][0] == money(figures["avg_deal_size"])
    assert shown["Sales cycle"][0] == f"{figures['sales_cycle']:.0f} days"
    assert shown["Pipeline created"][0] == money(figures["pipeline_created"])
    assert shown["Referral ratio (target 2 per win)"][0] == f"{figures['ratio']:.2f} per win"
    assert shown["Deals won (W)"][0] == str(figures["won"])
    assert shown["Referral deals created (R)"][0] == str(figures["referrals"])
    assert shown["Repeat business: won from accounts that had bought before"][0] == str(
        figures["repeat"]
    )


def test_the_first_question_is_about_the_reps_largest_overdue_deal():
    overdue = sorted(
        (d for d in of("Grace Liu") if d.stage not in ("Closed Won", "Closed Lost")
         and d.close < SAMPLE_DATE),
        key=lambda deal: -deal.amount,
    )  # fmt: skip
    first = overdue[0]
    at = open_page(coach_rep="Grace Liu")
    agenda = next(unescaped(m.value) for m in at.markdown if m.value.startswith("1. "))
    assert agenda.startswith(
        f"1. {first.name} ({money(first.amount)}) was due to close on "
        f"{first.close:%-d %b %Y}, {(SAMPLE_DATE - first.close).days} days ago"
    )


def test_the_team_makes_far_fewer_than_two_referral_deals_per_win():
    figures = expected_figures(sample_deals())
    at = open_page()
    metrics = {metric.label: (metric.value, metric.delta) for metric in at.metric}
    assert metrics["Deals won (W)"][0] == f"{figures['won']:,}"
    assert metrics["Referral deals created (R)"][0] == f"{figures['referrals']:,}"
    assert metrics["Referral deals per deal won (R / W)"] == (
        f"{figures['ratio']:.2f}",
        "target 2.0",
    )
    assert metrics["Repeat business"] == (
        f"{figures['repeat']:,}",
        f"{percent(figures['repeat'] / figures['won'])} of deals won",
    )
    referrals = table_with(at, "Referral deals (R)").set_index("Rep")
    samuel = expected_figures(of("Samuel Adeyemi"))
    assert referrals.loc["Samuel Adeyemi", "Won (W)"] == samuel["won"]
    assert referrals.loc["Samuel Adeyemi", "Referral deals (R)"] == samuel["referrals"]
    assert referrals.index[0] == "Samuel Adeyemi"  # the best ratio first


def test_the_referral_keywords_can_be_narrowed_on_the_page():
    word_of_mouth = expected_figures(sample_deals(), ("word of mouth",))
    at = open_page()
    at.text_area(key="referral_keywords").set_value("Word of Mouth").run()
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Referral deals created (R)"] == f"{word_of_mouth['referrals']:,}"


def test_the_scorecard_has_the_team_median_and_each_reps_figures():
    at = open_page()
    scorecard = table_with(at, "sales_cycle_days").set_index("owner")
    assert scorecard.index[0] == "Team median"
    for rep in ("Grace Liu", "Lukas Becker"):
        figures = expected_figures(of(rep))
        row = scorecard.loc[rep]
        assert round(row["win_rate"], 6) == round(figures["win_rate"] * 100, 6)
        assert round(row["avg_deal_size"], 2) == round(figures["avg_deal_size"], 2)
        assert row["sales_cycle_days"] == figures["sales_cycle"]
        assert row["pipeline_created"] == figures["pipeline_created"]
        assert round(row["referral_ratio"], 6) == round(figures["ratio"], 6)
    win_rates = [expected_figures(of(rep))["win_rate"] for rep in scorecard.index[1:]]
    assert round(scorecard.loc["Team median", "win_rate"], 6) == round(
        statistics.median(win_rates) * 100, 6
    )


def test_outliers_are_named_in_sentences_under_the_scorecard():
    lukas = expected_figures(of("Lukas Becker"))
    at = open_page()
    sentences = next(unescaped(m.value) for m in at.markdown if m.value.startswith("- "))
    # Lukas Becker's win rate is the lowest of the team by far: a concern, listed first.
    assert sentences.startswith(f"- Win rate: Lukas Becker {percent(lukas['win_rate'])}, far below")
    assert "(a concern)" in sentences.splitlines()[0]


def test_a_rep_with_many_deals_due_sees_the_first_25_on_the_sheet_and_where_the_rest_are():
    rows = ["Owner,Deal Name,Stage,Amount,Close Date,Probability,Opportunity ID"]
    rows += [f"Ana Ruiz,Deal {n},Negotiation,{1000 + n},2026-11-{n % 19 + 1:02d},90,D-{n}"
             for n in range(30)]  # fmt: skip
    at = open_page(source="My uploads")
    upload_as_of(at, "ana.csv", "\n".join(rows).encode(), date(2026, 11, 20))
    assert unescaped(at.subheader[1].value).startswith("What Ana Ruiz can close today: 30 deals")
    assert len(at.table[0].value) == 25
    assert (
        "The first 25 of 30, in the order to work them: “What can we close today?” lists them all."
        in [caption.value for caption in at.caption]
    )


# --- The track record from saved snapshots -------------------------------------------------------

GRACE = "Grace Liu"
GONE = "006GONE0000001"


def sample_table() -> tuple[list[str], list[dict]]:
    text = (ROOT / "sample_data" / "opportunities.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text[: text.index("\n\n")]))
    return list(reader.fieldnames), list(reader)


def sample_day(cell: str) -> date:
    return datetime.strptime(cell, "%m/%d/%Y").date()


def as_csv(headers: list[str], rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, headers, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def amount_of(row: dict) -> Decimal:
    return Decimal(row["Amount"].replace("$", "").replace(",", "") or "0")


def grace_at_13_nov() -> tuple[bytes, dict[str, list[dict]]]:
    """The sample as exported on 13 Nov, and Grace's close-today list then by what became of
    each deal: her late-stage deals due 14 Oct to 13 Nov (still open, unmoved, today); her deal
    won on 19 Nov, open then and due 13 Nov (won within 7 days); her first deal due after
    20 Nov, due 12 Nov then (pushed); and a deal since deleted (not seen again)."""
    headers, rows = sample_table()
    mine = [row for row in rows if row["Opportunity Owner"] == GRACE]
    still_open = [row for row in mine if not row["Stage"].startswith("Closed")
                  and int(row["Probability (%)"]) >= 60
                  and date(2026, 10, 14) <= sample_day(row["Close Date"]) <= date(2026, 11, 13)]  # fmt: skip
    won = next(row for row in mine if row["Stage"] == "Closed Won"
               and date(2026, 11, 13) < sample_day(row["Close Date"]) <= SAMPLE_DATE)  # fmt: skip
    pushed = next(row for row in mine if not row["Stage"].startswith("Closed")
                  and sample_day(row["Close Date"]) > SAMPLE_DATE)  # fmt: skip
    gone = {**won, "Opportunity ID": GONE, "Opportunity Name": "Gone", "Amount": "$5,000.00",
            "Stage": "Negotiation/Review", "Probability (%)": "90", "Close Date": "11/10/2026"}  # fmt: skip
    then = {won["Opportunity ID"]: {"Stage": "Negotiation/Review", "Probability (%)": "90",
                                    "Close Date": "11/13/2026"},
            pushed["Opportunity ID"]: {"Probability (%)": "90", "Close Date": "11/12/2026"}}  # fmt: skip
    earlier = [{**row, **then.get(row["Opportunity ID"], {})} for row in rows] + [gone]
    named = {"still_open": still_open, "won": [won], "pushed": [pushed], "unknown": [gone]}
    return as_csv(headers, earlier), named


def save_sample_snapshots() -> dict[str, list[dict]]:
    """13 Nov as above, and the sample itself as the snapshot of 20 Aug (day 50 of Q3, as
    20 Nov is of Q4)."""
    earlier, named = grace_at_13_nov()
    for as_of, data in ((date(2026, 8, 20), (ROOT / "sample_data/opportunities.csv").read_bytes()),
                        (date(2026, 11, 13), earlier)):  # fmt: skip
        export = load_opportunities(data, f"{as_of}.csv")
        save_snapshot(snapshot_of_export(export, as_of), store_path())
    return named


def test_without_snapshots_the_1_1_sheet_says_how_to_get_its_track_record():
    at = open_page(coach_rep=GRACE)
    texts = [unescaped(m.value) for m in at.markdown]
    advice = "save a snapshot each week to see this (“Save as snapshot” on “What changed since last week?”)."
    assert any(t.startswith("**Commit and best case at week 8 of past quarters, against what was "
                            "won:** – No snapshot saved in week 8 of an earlier quarter: ")
               and t.endswith(advice) for t in texts)  # fmt: skip
    assert f"– No snapshot saved in the 6 weeks before 20 Nov 2026: {advice}" in texts
    assert "Follow-through on past close-today lists" in [h.value for h in at.subheader]


def test_the_1_1_sheet_follows_last_weeks_close_today_list_and_judges_last_quarters_commit():
    named = save_sample_snapshots()
    at = open_page(coach_rep=GRACE)
    assert not at.exception, at.exception
    every = [row for rows in named.values() for row in rows]
    won = named["won"][0]
    line = (
        f"Last 6 weeks: {len(every)} deals named ({money(sum(amount_of(r) for r in every))}) at 1 "
        f"snapshot: 1 won within 7 days ({money(amount_of(won))}), 0 lost, 1 pushed, "
        f"{len(named['still_open'])} still open, 1 not seen again"
    )
    assert line in [unescaped(m.value) for m in at.markdown]
    weeks = next(t.value for t in at.table if "Named" in t.value.columns)
    assert [unescaped(cell) for cell in weeks.iloc[0, :2]] == [
        "Fri 13 Nov 2026", f"{len(every)} · {money(sum(amount_of(r) for r in every))}"]  # fmt: skip

    # Q3 at 20 Aug, from the sample as that snapshot: won 1 Jul to 20 Aug, plus open deals due in
    # Q3 at 90 % or more (Commit); what Grace won in all of Q3.
    grace = [row for row in sample_table()[1] if row["Opportunity Owner"] == GRACE]
    in_q3 = [row for row in grace if date(2026, 7, 1) <= sample_day(row["Close Date"])
             <= date(2026, 9, 30)]  # fmt: skip
    won_by_20_aug = sum(amount_of(r) for r in in_q3 if r["Stage"] == "Closed Won"
                        and sample_day(r["Close Date"]) <= date(2026, 8, 20))  # fmt: skip
    commit = won_by_20_aug + sum(amount_of(r) for r in in_q3 if not r["Stage"].startswith(
        "Closed") and int(r["Probability (%)"]) >= 90)  # fmt: skip
    actual = sum(amount_of(r) for r in in_q3 if r["Stage"] == "Closed Won")
    quarters = next(t.value for t in at.table if "Commit error" in t.value.columns)
    row = [unescaped(cell) for cell in quarters.iloc[0]]
    assert row[:3] == ["Q3 FY2026", "20 Aug 2026", money(commit)]
    assert row[4:6] == [money(actual), percent(float((commit - actual) / actual), signed=True)]


def test_the_follow_through_weeks_come_from_the_sidebar():
    save_sample_snapshots()
    at = open_page(coach_rep=GRACE)
    at.number_input(key="follow_through_weeks").set_value(1).run()
    assert not at.exception, at.exception
    texts = [unescaped(m.value) for m in at.markdown]
    assert any(text.startswith("Last 1 week: ") for text in texts)


def test_a_snapshot_saved_since_the_last_run_is_in_the_track_record_at_once():
    at = open_page(coach_rep=GRACE)
    assert not any(unescaped(m.value).startswith("Last 6 weeks: ") for m in at.markdown)
    save_sample_snapshots()
    at.run()
    assert any(unescaped(m.value).startswith("Last 6 weeks: 6 deals named") for m in at.markdown)
