"""The QBR as its charts and tables, and as files that travel: one HTML file, a ZIP of CSVs.

The HTML file is self-contained: Plotly's JavaScript is inlined once, its CSS is its own, nothing
is fetched, so it opens offline with interactive charts. Every value from the export is escaped
(charts through lib.charts.escape_text, text and tables here).
"""

from __future__ import annotations

import io
import re
import zipfile
from html import escape

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from lib.charts import (
    AHEAD,
    BEHIND,
    IMAGE_EXPORT_CONFIG,
    attainment_chart,
    coverage_chart,
    largest_losses_chart,
    losses_chart,
    pacing_chart,
    pipeline_by_deal_chart,
    presented,
    top_wins_chart,
)
from lib.coaching import REFERRAL_TARGET
from lib.downloads import safe_csv
from lib.format import money, percent
from lib.pacing import rep_rows, verdict
from lib.pipeline_warnings import warning_html
from lib.qbr import Qbr, headline_cards, story

# A chart fills at most a screen of 1080 pixels under its section's heading; a small one grows
# with its larger type, not to the full screen.
PRESENTATION_HEIGHT = 760
PRESENTATION_GROWTH = 1.5
SECTION_TITLES = {
    "pacing": "Bookings through the quarter",
    "attainment": "Attainment by rep",
    "top_wins": "Top wins",
    "losses": "Losses",
    "coverage": "Next quarter's coverage",
    "concentration": "Concentration risks",
    "referrals": "Every sale should lead to two more",
}

# How each table's columns read: money, a share of 1 (shown as a percentage), a multiple.
MONEY = ("Budget", "Booked", "Amount", "Lost amount", "Pipeline", "Budget still to close",
         "Last year", "Gap to budget", "Ahead (+) / behind (-)", "Expected by now",
         "At stake")  # fmt: skip
# The HTML file lists the largest lost deals: the sample's 218 made a page 22,800 pixels tall
# that nobody scrolls through in a meeting (and at a million deals a quarter's 28,000 made a
# 10 MB file, too large to mail). The CSV files hold every one.
LOSSES_LISTED = 25
# The room sees the largest losses as a chart, as many as the top wins.
LOSSES_CHARTED = 10
SHARES = ("Attainment", "Pacing index", "Share")
SIGNED_SHARES = ("vs last year",)
MULTIPLES = ("Coverage", "Referral deals per win")


def figures(result: Qbr, currency: str | None) -> dict[str, go.Figure]:
    """Every chart of the QBR by section, in the app's look (lib.charts.presented for a room)."""
    charts = {
        "pacing": pacing_chart(
            result.series,
            result.pacing,
            currency,
            f"{verdict(result.pacing, currency)} · week {result.pacing.week} of "
            f"{result.pacing.weeks}",
        )
    }
    if any(rep.pacing.attainment is not None for rep in result.pacing.reps):
        charts["attainment"] = attainment_chart(result.pacing, currency)
    if result.top_wins:
        total = sum(win.amount for win in result.top_wins)
        charts["top_wins"] = top_wins_chart(
            result.top_wins,
            currency,
            f"The {len(result.top_wins)} largest wins brought in {money(total, currency)}",
        )
    losses = result.losses
    if losses.count:
        largest = losses.largest(LOSSES_CHARTED)
        lost = sum(deal.amount for deal in largest)
        charts["largest_losses"] = largest_losses_chart(
            largest,
            currency,
            f"The {len(largest)} largest losses: {money(lost, currency)} of "
            f"{money(losses.amount, currency)} lost",
        )
    # One bar of "not in the export" says less than the note that goes with it.
    if losses.stage_known:
        charts["losses_by_stage"] = losses_chart(
            losses.by_stage, currency, f"{money(losses.amount, currency)} lost, by stage lost at"
        )
    if losses.by_reason:
        top = losses.by_reason[0]
        charts["losses_by_reason"] = losses_chart(
            losses.by_reason, currency, f"Lost most to {top.label}: {money(top.amount, currency)}"
        )
    coverage = result.coverage
    if coverage is not None and coverage.reps:
        charts["coverage"] = coverage_chart(coverage.reps, coverage.target, coverage.critical)
    if result.pipeline:
        charts["concentration"] = pipeline_by_deal_chart(
            result.pipeline, result.concentration_warn, currency
        )
    return charts


def screen_height(figure: go.Figure) -> int:
    """How high a chart is drawn for a room: its own height grown for the larger type, at most
    a screen's worth."""
    return min(PRESENTATION_HEIGHT, round((figure.layout.height or 450) * PRESENTATION_GROWTH))


def tables(result: Qbr) -> dict[str, pd.DataFrame]:
    """Every table of the QBR by file name; amounts in the display currency, shares as
    fractions (0.84), as the JSON report has them."""
    head = result.headline
    found = {
        "headline": pd.DataFrame(
            [
                ("Booked", head.booked),
                ("Budget", head.budget),
                ("Attainment", head.attainment),
                ("Last year", head.last_year),
                ("vs last year", head.yoy),
                ("Deals won", head.won_deals),
                ("Deals lost", head.lost_deals),
                ("Win rate", head.win_rate),
                ("Average deal size", head.avg_deal_size),
                ("Sales cycle (median days)", head.sales_cycle_days),
            ],
            columns=["Figure", "Value"],
        ),
        "attainment-by-rep": pd.DataFrame(
            [
                {
                    "Rep": row["owner"],
                    "Team": row["team"],
                    "Budget": row["budget"],
                    "Booked": row["closed_to_date"],
                    "Attainment": row["attainment"],
                    "Pacing index": row["pacing_index"],
                    "Gap to budget": row["gap"],
                    "Last year": row["last_year_to_date"],
                    "vs last year": row["yoy"],
                }
                for row in rep_rows(result.pacing)
            ],
            columns=[
                "Rep",
                "Team",
                "Budget",
                "Booked",
                "Attainment",
                "Pacing index",
                "Gap to budget",
                "Last year",
                "vs last year",
            ],
        ),  # fmt: skip
        "top-wins": pd.DataFrame(
            [
                (w.name, w.account, w.owner, w.amount, w.close_date, w.lead_source, w.type)
                for w in result.top_wins
            ],
            columns=["Deal", "Account", "Rep", "Amount", "Close date", "Lead source", "Type"],
        ),  # fmt: skip
        "losses": result.losses.deals.drop_columns(["opportunity_id"])
        .rename_columns(
            ["Deal", "Account", "Rep", "Amount", "Close date", "Stage lost at", "Loss reason"]
        )
        .to_pandas(),
        "losses-by-stage": _groups(result.losses.by_stage, "Stage lost at"),
    }
    if result.losses.reason_exported:
        found["losses-by-reason"] = _groups(result.losses.by_reason, "Loss reason")
    if result.coverage is not None:
        found["next-quarter-coverage"] = pd.DataFrame(
            [(row.owner, row.pipeline, row.remaining, row.ratio) for row in result.coverage.reps],
            columns=["Rep", "Pipeline", "Budget still to close", "Coverage"],
        )
    found["concentration-risks"] = pd.DataFrame(
        [(w.rule.label, w.owner, w.severity, w.value, w.at_stake, w.message)
         for w in result.concentration],
        columns=["Risk", "Rep", "Severity", "Share", "At stake", "What it says"],
    )  # fmt: skip
    found["referrals-by-rep"] = pd.DataFrame(
        [(r.owner, r.won_deals, r.referral_deals_created, r.referral_ratio)
         for r in result.rep_referrals],
        columns=["Rep", "Deals won", "Referral deals created", "Referral deals per win"],
    )  # fmt: skip
    return found


def _groups(groups, label: str) -> pd.DataFrame:
    return pd.DataFrame(
        [(group.label, group.deals, group.amount) for group in groups],
        columns=[label, "Deals", "Lost amount"],
    )


def file_stem(result: Qbr) -> str:
    """ "qbr-q3-fy2026"."""
    return "qbr-" + re.sub(r"[^\w]+", "-", result.quarter.label.lower()).strip("-")


def csv_zip(result: Qbr) -> bytes:
    """One CSV per table (lib.downloads.safe_csv: formula cells neutralised), in one ZIP."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in tables(result).items():
            archive.writestr(f"{file_stem(result)}/{name}.csv", safe_csv(frame))
    return buffer.getvalue()


# --- The HTML file -------------------------------------------------------------------------------

CSS = f"""
* {{ box-sizing: border-box; }}
body {{ font-family: "Source Sans Pro", Helvetica, Arial, sans-serif; color: #000;
       background: #fff; margin: 0 auto; max-width: 1800px; padding: 0 32px; font-size: 20px;
       line-height: 1.4; }}
section {{ min-height: 100vh; padding: 40px 0; border-bottom: 2px solid #c9ced6; }}
h1 {{ font-size: 44px; margin: 0 0 8px; }}
h2 {{ font-size: 36px; margin: 0 0 16px; }}
.meta, .note {{ color: #333; font-size: 20px; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 32px 48px; margin: 40px 0; }}
/* A card is at least as wide as its figure: one that does not fit moves to the next row whole,
   and its figure is never cut off or wrapped. */
.cards div {{ flex: 1 1 0; min-width: min-content; font-size: 24px; }}
.cards b {{ display: block; font-size: clamp(44px, 4vw, 72px); line-height: 1.1;
           white-space: nowrap; }}
.cards span {{ color: #333; font-size: 20px; }}
table {{ border-collapse: collapse; width: 100%; font-size: 18px; margin: 16px 0; }}
th, td {{ text-align: left; padding: 6px 10px; border-bottom: 1px solid #c9ced6;
          vertical-align: top; }}
th {{ font-weight: 700; }}
td.number, th.number {{ text-align: right; white-space: nowrap; }}
.risk {{ font-size: 26px; margin: 14px 0; }}
.critical {{ color: {BEHIND}; }}
.good {{ color: {AHEAD}; }}
footer {{ margin: 24px 0; color: #333; font-size: 16px; }}
@media print {{ section {{ min-height: 0; break-after: page; }} }}
"""


def qbr_html(result: Qbr, currency: str | None, source: str) -> str:
    """The whole QBR as one HTML document that opens offline."""
    charts = {key: presented(figure, screen_height(figure))
              for key, figure in figures(result, currency).items()}  # fmt: skip
    rendered = _rendered_charts(charts)
    found = tables(result)
    quarter = escape(result.quarter.label)
    cards = "".join(
        f"<div>{escape(label)}<b>{escape(value)}</b><span>{escape(note)}</span></div>"
        for label, value, note in headline_cards(result, currency)
    )
    sections = [
        f'<section id="headline"><h1>{escape(story(result, currency))}</h1>'
        f'<p class="meta">QBR {quarter} · figures through {result.through:%a %-d %b %Y} · '
        f"{escape(source)}</p>"
        f'<div class="cards">{cards}</div></section>',
        _section("pacing", rendered.get("pacing", "")),
        _section(
            "attainment",
            rendered.get("attainment", '<p class="note">No rep has a budget this quarter.</p>'),
            _table(found["attainment-by-rep"], currency),
        ),
        _section(
            "top_wins",
            rendered.get("top_wins", '<p class="note">No deal won this quarter.</p>'),
            _table(found["top-wins"], currency),
        ),
        _losses_section(result, rendered, found, currency),
        _coverage_section(result, rendered, found, currency),
        _concentration_section(result, rendered),
        _referrals_section(result, found, currency),
    ]
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>QBR {quarter}</title>",
            f"<style>{CSS}</style></head><body>",
            *sections,
            "<footer>Made with Closeboard. Win rate = won ÷ (won + lost) by count; sales cycle "
            "= median days from created to won; coverage = open pipeline closing in the "
            "quarter ÷ its budget still to close; referral ratio = referral deals created ÷ "
            f"deals won (target {REFERRAL_TARGET:g}). Pipeline figures are as of "
            f"{result.export_as_of:%-d %b %Y}, the export's date.</footer>",
            "</body></html>",
        ]
    )


def _rendered_charts(charts: dict[str, go.Figure]) -> dict[str, str]:
    """Each chart as an HTML fragment; Plotly's JavaScript is inlined with the first only."""
    rendered = {}
    for number, (key, figure) in enumerate(charts.items()):
        rendered[key] = pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=number == 0,
            config=IMAGE_EXPORT_CONFIG,
            div_id=f"chart-{key.replace('_', '-')}",
        )
    return rendered


def _section(key: str, *parts: str) -> str:
    return f'<section id="{key}"><h2>{SECTION_TITLES[key]}</h2>{"".join(parts)}</section>'


def _losses_section(result: Qbr, rendered, found, currency: str | None) -> str:
    losses = result.losses
    if not losses.count:
        return _section("losses", '<p class="note">No deal lost this quarter.</p>')
    parts = [
        f'<p class="risk">{losses.count} deal{"" if losses.count == 1 else "s"} lost, '
        f"{escape(money(losses.amount, currency))}.</p>",
        rendered.get("largest_losses", ""),
        rendered.get("losses_by_stage", ""),
    ]
    if losses.stage_note:
        parts.append(f'<p class="note">{escape(losses.stage_note)}</p>')
    if losses.reason_exported:
        parts.append(rendered.get("losses_by_reason", ""))
    else:
        parts.append('<p class="note">The export has no loss reason column.</p>')
    parts.append(_table(found["losses"].head(LOSSES_LISTED), currency))
    if losses.count > LOSSES_LISTED:
        parts.append(
            f'<p class="note">The {LOSSES_LISTED:,} largest of {losses.count:,} lost deals; the '
            "CSV files hold every one.</p>"
        )
    return _section("losses", *parts)


def _coverage_section(result: Qbr, rendered, found, currency: str | None) -> str:
    coverage = result.coverage
    if coverage is None:
        return _section("coverage", f'<p class="note">{escape(result.coverage_note or "")}</p>')
    ratio = "–" if coverage.ratio is None else f"{coverage.ratio:.1f}×"
    pipeline, to_close = (money(amount, currency) for amount in (coverage.pipeline,
                                                                 coverage.to_close))  # fmt: skip
    summary = (
        f'<p class="risk">{escape(coverage.quarter.label)}: {escape(pipeline)} of open pipeline '
        f"for {escape(to_close)} of budget still to close: <b>{ratio}</b> (target "
        f"{coverage.target:.1f}×), as of {coverage.as_of:%-d %b %Y}.</p>"
    )
    table = _table(found["next-quarter-coverage"], currency)
    return _section("coverage", summary, rendered.get("coverage", ""), table)


def _concentration_section(result: Qbr, rendered) -> str:
    if not result.concentration:
        return _section(
            "concentration",
            f'<p class="risk good">No deal or rep carries too much of the open pipeline (as of '
            f"{result.export_as_of:%-d %b %Y}).</p>",
            rendered.get("concentration", ""),
        )
    items = "".join(warning_html(w, "risk") for w in result.concentration)
    return _section(
        "concentration",
        f'<p class="note">The open pipeline as of {result.export_as_of:%-d %b %Y}.</p>',
        items,
        rendered.get("concentration", ""),
    )


def _referrals_section(result: Qbr, found, currency: str | None) -> str:
    team = result.referrals
    if team.referral_deals_created is None:
        return _section(
            "referrals", '<p class="note">The export has no lead source or created date.</p>'
        )
    ratio = "–" if team.referral_ratio is None else f"{team.referral_ratio:.2f}"
    summary = (
        f'<p class="risk">{team.referral_deals_created} referral deals created for '
        f"{team.won_deals} deals won: <b>{ratio} per win</b> (target {REFERRAL_TARGET:g}).</p>"
    )
    return _section("referrals", summary, _table(found["referrals-by-rep"], currency))


def _table(frame: pd.DataFrame, currency: str | None) -> str:
    """A table with every cell escaped; money, shares and multiples written for the reader."""
    numeric = [column for column in frame.columns
               if column in (*MONEY, *SHARES, *SIGNED_SHARES, *MULTIPLES)]  # fmt: skip
    header = "".join(
        f"<th{' class=number' if column in numeric else ''}>{escape(column)}</th>"
        for column in frame.columns
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=number' if column in numeric else ''}>"
            f"{escape(_cell(column, value, currency))}</td>"
            for column, value in row.items()
        )
        + "</tr>"
        for _, row in frame.iterrows()
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>"


def _cell(column: str, value: object, currency: str | None) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if column in MONEY:
        return money(float(value), currency)
    if column in (*SHARES, *SIGNED_SHARES):
        return percent(float(value), signed=column in SIGNED_SHARES)
    if column in MULTIPLES:
        return f"{float(value):.2f}×"
    if hasattr(value, "strftime"):
        return f"{value:%-d %b %Y}"
    return str(value)
