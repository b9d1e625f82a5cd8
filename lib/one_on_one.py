"""A rep's 1:1 sheet: what the coaching page shows for one rep, and the same as one HTML file.

The file is self-contained (its own CSS, the chart as inline SVG, no script, nothing fetched) so
that it opens offline, prints on one or two pages, and can be sent to the rep. Every value that
comes from the export is escaped.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import date
from html import escape

import duckdb

from lib.charts import AGE_COLOURS, BEHIND, INK, PROJECTION
from lib.close_today import OVERDUE, DealToClose, close_today, nearest
from lib.coaching import (
    AGE_BANDS,
    AGE_LABELS,
    REFERRAL_TARGET,
    SCORECARD,
    CoachingReport,
    RepCoaching,
    StageAge,
    figure_text,
    last_won_accounts,
    open_deals,
    pipeline_by_stage_and_age,
    questions,
    scorecard_row,
    scorecard_rows,
    team_medians,
)
from lib.fiscal import Period
from lib.follow_through import (
    ACCURACY_COLUMNS,
    FOLLOW_THROUGH_COLUMNS,
    TrackRecord,
    accuracy_line,
    accuracy_rows,
    follow_through_line,
    follow_through_rows,
)
from lib.format import money, percent
from lib.pacing import Pacing, PacingReport
from lib.pipeline_warnings import PipelineWarning, WarningsFound, warning_html
from lib.settings import Settings


@dataclass(frozen=True)
class OneOnOneSheet:
    """Everything on one rep's 1:1 sheet."""

    rep: RepCoaching
    as_of: date
    source: str
    currency: str | None
    quarter: PacingReport
    pacing: Pacing
    # The deals the rep can close now, or (when there are none) the nearest late-stage ones.
    close_now: tuple[DealToClose, ...]
    closing_next: tuple[DealToClose, ...]
    warnings: tuple[PipelineWarning, ...]
    pipeline: tuple[StageAge, ...]
    questions: tuple[str, ...]
    window: Period
    team_median: dict[str, float | None]
    # Every rep's follow-through and forecast accuracy from the saved snapshots; None when no
    # snapshots were read.
    track_record: TrackRecord | None = None

    @property
    def owner(self) -> str:
        return self.rep.owner


def one_on_one_sheet(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    owner: str,
    report: CoachingReport,
    found: WarningsFound,
    currency: str | None,
    source: str,
    track_record: TrackRecord | None = None,
) -> OneOnOneSheet:
    """The rep's sheet from the coaching report and the warnings the page has already built,
    with the rep's part of the `track_record` of saved snapshots when given."""
    rep = next(rep for rep in report.reps if rep.owner == owner)
    pacing = next(r.pacing for r in report.quarter.reps if r.owner == owner)
    mine = next(iter(close_today(con, settings, owner)), None)
    deals = open_deals(con, owner)
    warnings = tuple(warning for warning in found.warnings if warning.owner == owner)
    return OneOnOneSheet(
        rep=rep,
        as_of=settings.as_of,
        source=source,
        currency=currency,
        quarter=report.quarter,
        pacing=pacing,
        close_now=mine.deals if mine else (),
        closing_next=() if mine else tuple(nearest(con, settings, owner)),
        warnings=warnings,
        pipeline=tuple(pipeline_by_stage_and_age(deals, report.quarter.period, settings.as_of)),
        questions=tuple(
            questions(
                owner,
                deals,
                list(warnings),
                rep.figures,
                last_won_accounts(con, settings, owner),
                settings,
                currency,
            )
        ),  # fmt: skip
        window=report.window,
        team_median=team_medians(scorecard_rows(report)) | count_medians(report),
        track_record=track_record,
    )


# Pipeline this old has usually outlived the team's sales cycle: the chart's title says how much.
AGED_DAYS = 90


def pacing_cards(sheet: OneOnOneSheet) -> list[tuple[str, str, str]]:
    """(label, figure, what it is against) for the sheet's pacing figures."""
    figures, currency = sheet.pacing, sheet.currency
    against_budget = (
        f"{percent(figures.attainment)} of {money(figures.budget, currency)} budget"
        if figures.budget is not None
        else "no budget"
    )
    ahead = figures.ahead_by
    pace = (
        "needs a budget"
        if ahead is None
        else f"{money(abs(ahead), currency)} {'ahead' if ahead >= 0 else 'behind'}"
    )
    return [
        ("Booked to date", money(figures.closed_to_date, currency), against_budget),
        ("Pacing index", percent(figures.pacing_index), pace),
        ("Gap to budget", money(figures.gap, currency),
         f"{money(figures.required_per_business_day, currency)} a business day"),
        ("Commit projection", money(figures.projection_commit, currency), "booked + Commit"),
        ("Best-case projection", money(figures.projection_best_case, currency),
         "and Best Case"),
    ]  # fmt: skip


DEAL_COLUMNS = ("Deal", "Stage", "Amount", "Prob.", "Close date", "Since activity", "Next step",
                "Flags")  # fmt: skip


def deal_rows(deals: tuple[DealToClose, ...], currency: str | None) -> list[tuple[str, ...]]:
    """The close-today deals as the sheet's table writes them, one tuple of DEAL_COLUMNS each;
    an overdue close date says so itself, so the flags leave it out."""
    rows = []
    for deal in deals:
        close = f"{deal.close_date:%-d %b %Y}"
        if deal.days_overdue:
            close += f" ({deal.days_overdue} d overdue)"
        activity = "" if deal.days_since_activity is None else f"{deal.days_since_activity} d"
        rows.append(
            (deal.name or deal.opportunity_id, deal.stage, money(deal.amount, currency),
             percent(deal.probability), close, activity, deal.next_step or "",
             "; ".join(flag for flag in deal.flags if flag != OVERDUE))
        )  # fmt: skip
    return rows


def four_quarters_rows(sheet: OneOnOneSheet) -> list[tuple[str, str, str]]:
    """(measure, the rep's figure, the team's median) for the sheet's table: the scorecard's
    measures, then wins, referrals and repeat business."""
    mine, currency = scorecard_row(sheet.rep), sheet.currency
    labels = {
        "attainment": f"Attainment ({sheet.quarter.period.label} so far)",
        "referral_ratio": f"Referral ratio (target {REFERRAL_TARGET:g} per win)",
    }
    rows = [
        (labels.get(measure.key, measure.label),
         figure_text(measure.key, mine[measure.key], currency),
         figure_text(measure.key, sheet.team_median[measure.key], currency))
        for measure in SCORECARD
    ]  # fmt: skip
    figures = rep_counts(sheet.rep)
    for key, label in COUNT_LABELS.items():
        rows.append((label, _count(figures[key]), _count(sheet.team_median[key])))
    return rows


COUNT_LABELS = {
    "won_deals": "Deals won (W)",
    "referral_deals_created": "Referral deals created (R)",
    "repeat_business_deals": "Repeat business: won from accounts that had bought before",
}


def rep_counts(rep: RepCoaching) -> dict[str, int | None]:
    return {key: getattr(rep.figures, key) for key in COUNT_LABELS}


def count_medians(report: CoachingReport) -> dict[str, float | None]:
    """The median rep's wins, referral deals and repeat business."""
    medians = {}
    for key in COUNT_LABELS:
        values = [rep_counts(rep)[key] for rep in report.reps if rep_counts(rep)[key] is not None]
        medians[key] = statistics.median(values) if values else None
    return medians


def _count(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def pipeline_title(sheet: OneOnOneSheet) -> str:
    """ "$810.6K open in 18 deals; 25 % of it created 90 days ago or more"."""
    total = sum(row.total for row in sheet.pipeline)
    deals = sum(row.deals for row in sheet.pipeline)
    open_deals = f"{money(total, sheet.currency)} open in {deals} deal{'' if deals == 1 else 's'}"
    if not total:
        return open_deals
    aged = sum(
        row.amounts[index]
        for row in sheet.pipeline
        for index, (low, _, _) in enumerate(AGE_BANDS)
        if low >= AGED_DAYS
    )
    if not aged:
        return f"{open_deals}, all of it created in the last {AGED_DAYS} days"
    return f"{open_deals}; {percent(aged / total)} of it created {AGED_DAYS} days ago or more"


NO_SNAPSHOTS_READ = "– No snapshots were read."


def _reason(note: str) -> str:
    """A track record's note as the sheet says it: "– No snapshot saved … (…)."."""
    return f"– {note[0].upper()}{note[1:]}."


def follow_through_text(sheet: OneOnOneSheet) -> str:
    """The rep's follow-through in one line, or "–" and why there is none."""
    record = sheet.track_record
    if record is None:
        return NO_SNAPSHOTS_READ
    if record.follow_through_note:
        return _reason(record.follow_through_note)
    return follow_through_line(record.rep_follow_through(sheet.owner), sheet.currency)


def follow_through_table(sheet: OneOnOneSheet) -> list[tuple[str, ...]]:
    """One row per snapshot followed (FOLLOW_THROUGH_COLUMNS); none without snapshots."""
    record = sheet.track_record
    rep = record.rep_follow_through(sheet.owner) if record else None
    return follow_through_rows(rep, sheet.currency) if rep else []


def accuracy_text(sheet: OneOnOneSheet) -> str:
    """The rep's forecast accuracy in one line, or "–" and why there is none."""
    record = sheet.track_record
    if record is None:
        return NO_SNAPSHOTS_READ
    if record.accuracy_note:
        return _reason(record.accuracy_note)
    return accuracy_line(record.accuracy.get(sheet.owner))


def accuracy_table(sheet: OneOnOneSheet) -> list[tuple[str, ...]]:
    """One row per past quarter (ACCURACY_COLUMNS); none when no quarter can be judged."""
    record = sheet.track_record
    if record is None or record.accuracy_note or sheet.owner not in record.accuracy:
        return []
    return accuracy_rows(record.accuracy[sheet.owner], sheet.currency)


def accuracy_title(sheet: OneOnOneSheet) -> str:
    """ "Commit and best case at week 8 of past quarters, against what was won"."""
    return (
        f"Commit and best case at week {sheet.quarter.week} of past quarters, against what was won"
    )


def sheet_file_name(owner: str, as_of: date) -> str:
    """ "1-1-grace-liu-2026-11-20.html"."""
    slug = re.sub(r"[^\w]+", "-", owner.lower()).strip("-")
    return f"1-1-{slug}-{as_of.isoformat()}.html"


# --- The HTML file -------------------------------------------------------------------------------

CSS = f"""
* {{ box-sizing: border-box; }}
body {{ font-family: "Source Sans Pro", Helvetica, Arial, sans-serif; color: {INK};
       margin: 24px auto; max-width: 980px; padding: 0 16px; font-size: 14px; line-height: 1.4; }}
h1 {{ font-size: 26px; margin: 0; }}
h2 {{ font-size: 17px; margin: 18px 0 6px; border-bottom: 1px solid #e6e8ec;
      padding-bottom: 3px; }}
.meta {{ color: #5b6477; margin: 2px 0 10px; }}
.figures {{ display: flex; flex-wrap: wrap; gap: 8px 24px; margin: 6px 0; }}
.figures div {{ min-width: 130px; }}
.figures b {{ display: block; font-size: 18px; }}
.figures span {{ color: #5b6477; font-size: 12px; }}
ol {{ margin: 4px 0; padding-left: 22px; }}
ol li {{ margin: 3px 0; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12.5px; }}
th, td {{ text-align: left; padding: 3px 6px; border-bottom: 1px solid #e6e8ec;
          vertical-align: top; }}
th {{ color: #5b6477; font-weight: 600; }}
table.compact {{ width: auto; min-width: 60%; }}
td.number, th.number {{ text-align: right; white-space: nowrap; }}
.overdue {{ color: {BEHIND}; font-weight: 600; }}
.warn {{ margin: 3px 0; }}
.critical {{ color: {BEHIND}; }}
.legend span {{ display: inline-block; margin-right: 14px; font-size: 12px; }}
.legend i {{ display: inline-block; width: 11px; height: 11px; margin-right: 4px;
             vertical-align: -1px; }}
.note {{ color: #5b6477; font-size: 12px; }}
footer {{ margin-top: 16px; color: #5b6477; font-size: 11px; }}
@media print {{
  body {{ margin: 0; max-width: none; font-size: 11.5px; }}
  h2 {{ margin-top: 10px; break-after: avoid; }}
  section, tr, li {{ break-inside: avoid; }}
  @page {{ margin: 12mm; }}
}}
"""


def sheet_html(sheet: OneOnOneSheet) -> str:
    """The whole sheet as one HTML document."""
    owner = escape(sheet.owner)
    team = f"{escape(sheet.rep.team)} · " if sheet.rep.team else ""
    quarter = sheet.quarter
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>1:1 with {owner} · {sheet.as_of:%-d %b %Y}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<header><h1>1:1 with {owner}</h1>",
        f'<p class="meta">{team}{escape(quarter.period.label)}, week {quarter.week} of '
        f"{quarter.weeks} · as of {sheet.as_of:%a %-d %b %Y} · {escape(sheet.source)}</p></header>",
        _pacing_html(sheet),
        _accuracy_html(sheet),
        _questions_html(sheet),
        _close_html(sheet),
        _follow_through_html(sheet),
        _warnings_html(sheet),
        _pipeline_html(sheet),
        _four_quarters_html(sheet),
        "<footer>Made with Closeboard. Win rate = won ÷ (won + lost) by count; sales cycle = "
        "median days from created to won; referral ratio = referral deals created ÷ deals won "
        "(target 2); figures over the four quarters "
        f"{escape(sheet.window.label)}, through {sheet.as_of:%-d %b %Y}.</footer>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _pacing_html(sheet: OneOnOneSheet) -> str:
    cells = "".join(
        f"<div>{escape(label)}<b>{escape(value)}</b><span>{escape(note)}</span></div>"
        for label, value, note in pacing_cards(sheet)
    )
    return (
        f"<section><h2>Pacing: {escape(sheet.quarter.period.label)}</h2>"
        f'<div class="figures">{cells}</div></section>'
    )


def _accuracy_html(sheet: OneOnOneSheet) -> str:
    return (
        f"<section><h2>{escape(accuracy_title(sheet))}</h2><p>{escape(accuracy_text(sheet))}</p>"
        f"{_text_table(ACCURACY_COLUMNS, accuracy_table(sheet), first_columns=2)}</section>"
    )


def _follow_through_html(sheet: OneOnOneSheet) -> str:
    return (
        f"<section><h2>{escape(FOLLOW_THROUGH_TITLE)}</h2>"
        f"<p>{escape(follow_through_text(sheet))}</p>"
        f"{_text_table(FOLLOW_THROUGH_COLUMNS, follow_through_table(sheet))}</section>"
    )


FOLLOW_THROUGH_TITLE = "Follow-through on past close-today lists"


def _text_table(columns: tuple[str, ...], rows: list[tuple[str, ...]], first_columns=1) -> str:
    """A compact table of text cells, the columns after the first ones right-aligned; nothing
    when there are no rows."""
    if not rows:
        return ""

    def cell(tag: str, index: int, text: str) -> str:
        css = " class=number" if index >= first_columns else ""
        return f"<{tag}{css}>{escape(text)}</{tag}>"

    header = "".join(cell("th", i, column) for i, column in enumerate(columns))
    body = "".join(
        "<tr>" + "".join(cell("td", i, text) for i, text in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<table class="compact"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def _questions_html(sheet: OneOnOneSheet) -> str:
    if not sheet.questions:
        return (
            "<section><h2>Questions to ask</h2><p>Nothing in the data calls for one.</p></section>"
        )
    items = "".join(f"<li>{escape(question)}</li>" for question in sheet.questions)
    return f"<section><h2>Questions to ask</h2><ol>{items}</ol></section>"


def _close_html(sheet: OneOnOneSheet) -> str:
    owner = escape(sheet.owner)
    if sheet.close_now:
        total = money(sum(float(deal.amount or 0) for deal in sheet.close_now), sheet.currency)
        count = len(sheet.close_now)
        heading = (
            f"What {owner} can close today: {count} deal{'' if count == 1 else 's'}, "
            f"{escape(total)}"
        )
        return (
            f"<section><h2>{heading}</h2>{_deals_table(sheet.close_now, sheet.currency)}</section>"
        )
    if sheet.closing_next:
        return (
            f"<section><h2>What {owner} can close today: nothing due</h2>"
            '<p class="note">The nearest late-stage deals:</p>'
            f"{_deals_table(sheet.closing_next, sheet.currency)}</section>"
        )
    return (
        f"<section><h2>What {owner} can close today</h2>"
        "<p>No open late-stage deal, due now or later.</p></section>"
    )


def _deals_table(deals: tuple[DealToClose, ...], currency: str | None) -> str:
    numbers = {"Amount", "Prob.", "Since activity"}
    header = "".join(
        f"<th{' class=number' if column in numbers else ''}>{column}</th>"
        for column in DEAL_COLUMNS
    )
    rows = []
    for deal, row in zip(deals, deal_rows(deals, currency), strict=True):
        cells = []
        for column, text in zip(DEAL_COLUMNS, row, strict=True):
            late = column == "Close date" and deal.days_overdue > 0
            css = "number" if column in numbers else ("overdue" if late else "")
            cells.append(f"<td{f' class={css}' if css else ''}>{escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _warnings_html(sheet: OneOnOneSheet) -> str:
    if not sheet.warnings:
        return "<section><h2>Warnings</h2><p>None: the pipeline passes every check.</p></section>"
    items = "".join(warning_html(w, "warn") for w in sheet.warnings)
    return f"<section><h2>Warnings</h2>{items}</section>"


def _pipeline_html(sheet: OneOnOneSheet) -> str:
    heading = "<h2>Open pipeline by stage and age</h2>"
    if not sheet.pipeline:
        return f"<section>{heading}<p>No open pipeline.</p></section>"
    heading += f'<p class="note">{escape(pipeline_title(sheet))}</p>'
    used = [i for i in range(len(AGE_LABELS)) if any(row.counts[i] for row in sheet.pipeline)]
    legend = "".join(
        f'<span><i style="background:{AGE_COLOURS[i]}"></i>{escape(AGE_LABELS[i])}</span>'
        for i in used
    )
    return (
        f"<section>{heading}{stage_age_svg(sheet.pipeline, sheet.currency)}"
        f'<div class="legend">Age since created: {legend}</div></section>'
    )


def stage_age_svg(rows: tuple[StageAge, ...], currency: str | None) -> str:
    """Horizontal bars, one per stage, split into age bands; the total and deal count after."""
    label_width, bar_width, value_width, row_height = 190, 520, 130, 24
    width = label_width + bar_width + value_width
    height = row_height * len(rows) + 6
    largest = max(row.total for row in rows) or 1
    shapes = []
    for number, row in enumerate(rows):
        y = 3 + number * row_height
        shapes.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">{escape(row.stage)}</text>'
        )
        x = float(label_width)
        for index, amount in enumerate(row.amounts):
            if amount <= 0:
                continue
            length = amount / largest * bar_width
            shapes.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="{row_height - 6}" '
                f'fill="{AGE_COLOURS[index]}" stroke="white"><title>'
                f"{escape(AGE_LABELS[index])}: {escape(money(amount, currency))}</title></rect>"
            )
            x += length
        total = f"{money(row.total, currency)} · {row.deals} deal{'' if row.deals == 1 else 's'}"
        shapes.append(f'<text x="{x + 6:.1f}" y="{y + 16}">{escape(total)}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" font-size="12" fill="{INK}" '
        f'role="img" aria-label="Open pipeline by stage and age">'
        f'<line x1="{label_width}" y1="0" x2="{label_width}" y2="{height}" '
        f'stroke="{PROJECTION}" stroke-width="0.5"/>' + "".join(shapes) + "</svg>"
    )


def _four_quarters_html(sheet: OneOnOneSheet) -> str:
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td class=number>{escape(mine)}</td>"
        f"<td class=number>{escape(median)}</td></tr>"
        for label, mine, median in four_quarters_rows(sheet)
    )
    return (
        f"<section><h2>The last four quarters ({escape(sheet.window.label)}) against the "
        'team</h2><table class="compact"><thead><tr><th></th>'
        f"<th class=number>{escape(sheet.owner)}</th>"
        f"<th class=number>Team median</th></tr></thead><tbody>{rows}</tbody></table>"
        "</section>"
    )
