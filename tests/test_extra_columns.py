"""An export's own columns ride along with the deals under their header names. Whatever they are
called, they must never change a figure: every page's figures are worked out twice, without and
with a column named like each name the figures' SQL gives a value of its own (AS weighted,
AS explore_by…), and must come out the same. So must they with the picklist fields (owner,
stage, status…) held as plain text rather than dictionary-encoded, as the loader holds them."""

import re
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from lib import explore
from lib.changes import compare
from lib.close_today import close_today, nearest
from lib.coaching import coaching
from lib.db import SET_APART_SQL, open_database, resolve_deals
from lib.fiscal import fiscal_quarter
from lib.load.arrow_columns import PICKLIST_FIELDS
from lib.load.mapping import propose_mapping
from lib.load.opportunities import CANONICAL_COLUMNS, load_opportunities
from lib.load.targets import load_targets
from lib.one_on_one import one_on_one_sheet
from lib.overview import export_summary, owners, quota_grid
from lib.pacing import cumulative_series, linearity, pacing
from lib.pipeline_warnings import (
    created_by_week,
    pipeline_blocks,
    pipeline_figures,
    pipeline_warnings,
)
from lib.qbr import qbr
from lib.report import report
from lib.settings import Settings
from lib.store import snapshot_of_export

LIB = Path(__file__).resolve().parent.parent / "lib"
SQL_TEXT = "\n".join(path.read_text() for path in [*LIB.glob("*.py"), *LIB.glob("sql/*.sql")])
SETTINGS = Settings(as_of=date(2026, 11, 20))
STAGES = ("Prospecting", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost")
HEADER = ("Opportunity Owner,Account Name,Opportunity Name,Stage,Amount,Probability (%),"
          "Close Date,Created Date,Last Activity,Lead Source")  # fmt: skip
# Every name the figures' SQL gives a value ("… AS weighted", '… AS "by"') or a table the
# figures read (first_wins…), the deals' own columns aside.
NAMED = {quoted or bare for quoted, bare in re.findall(r'\bAS (?:"([^"]+)"|([a-z_]+)\b)', SQL_TEXT)}
NAMED |= set(SET_APART_SQL)


def extra_columns_only(names: set[str]) -> list[str]:
    """The names no field would be read from: an "Opportunity ID" or a "Status" column is the
    deals' own, and once one is left out another may be taken for that field."""
    names = names - set(CANONICAL_COLUMNS)
    while read := names & set(propose_mapping((*HEADER.split(","), *sorted(names))).values()):
        names -= read
    return sorted(names)


ALIASES = extra_columns_only(NAMED)


def export_rows(week_before: bool = False) -> list[str]:
    """Ninety deals of seven reps over the last year and the next quarter, spread by formula; a
    week before, some had other amounts, stages and close dates, and a few did not exist yet."""
    rows = []
    for n in range(80 if week_before else 90):
        close = SETTINGS.as_of + timedelta(days=(n * 37) % 520 - 400)
        created = close - timedelta(days=5 + (n * 13) % 200)
        amount, stage = (n * 7919) % 90 + 1, STAGES[n % 5]
        if week_before and n % 4 == 0:
            amount, stage, close = amount + 5, STAGES[(n + 1) % 5], close - timedelta(days=20)
        rows.append(
            f"Rep {n % 7},Account {n % 23},Deal {n},{stage},{amount}000,"
            f"{(10, 50, 90)[n % 3]},{close:%m/%d/%Y},{created:%m/%d/%Y},"
            f"{created + timedelta(days=n % 30):%m/%d/%Y},{('Web', 'Referral', 'Partner')[n % 3]}"
        )
    return rows


# Budgets for every rep, this quarter and the next: coverage and attainment are worked out too.
QUOTAS = load_targets(
    "\n".join(
        ["owner,period,amount"]
        + [f"Rep {rep},{quarter},{(rep + 2) * 50000}" for rep in range(7)
           for quarter in ("2026-Q3", "2026-Q4", "2027-Q1")]
    ).encode(),
    "quotas.csv",
    SETTINGS,
)  # fmt: skip


def load(rows: list[str], with_extra_columns: bool, picklists_as_text: bool = False):
    header = HEADER
    if with_extra_columns:
        header += "," + ",".join(ALIASES)
        # Numbers, so that a column taken for one of the query's own values still adds up.
        rows = [row + "," + ",".join(str(9 - n % 9) for n in range(len(ALIASES))) for row in rows]
    export = load_opportunities(("\n".join([header, *rows]) + "\n").encode(), "export.csv")
    return replace(export, deals=as_text(export.deals)) if picklists_as_text else export


def as_text(deals: pa.Table) -> pa.Table:
    for key in PICKLIST_FIELDS:
        position = deals.schema.get_field_index(key)
        assert pa.types.is_dictionary(deals.schema.field(position).type), key
        deals = deals.set_column(position, key, deals[key].cast(pa.string()))
    return deals


def figures(with_extra_columns: bool, picklists_as_text: bool = False) -> dict[str, str]:
    export = load(export_rows(), with_extra_columns, picklists_as_text)
    week_before = load(export_rows(week_before=True), with_extra_columns, picklists_as_text)
    resolved = resolve_deals(export.deals)
    if picklists_as_text:
        resolved = as_text(resolved)
    con = open_database(export.deals, QUOTAS.targets, opportunities=resolved)
    period = fiscal_quarter(SETTINGS.as_of, SETTINGS)
    this_quarter = pacing(con, SETTINGS, period)
    found = pipeline_figures(con, SETTINGS)
    coached = coaching(con, SETTINGS)
    warnings = pipeline_warnings(con, SETTINGS, None, found)
    views = [explore.View(deals=deals, by=by, split=split)
             for deals in ("won", "open", "all")
             for by, split in (("owner", None), ("stage", "owner"), ("close_month", None))]  # fmt: skip
    available = explore.dimensions(resolved.column_names)
    shown = {
        "pacing": (this_quarter, cumulative_series(con, SETTINGS, this_quarter),
                   linearity(con, SETTINGS, period)),
        "close_today": ([rep.deals for rep in close_today(con, SETTINGS)], nearest(con, SETTINGS)),
        "warnings": (warnings, pipeline_blocks(con, SETTINGS),
                     created_by_week(con, SETTINGS, found.owners)),
        "coaching": (coached, [one_on_one_sheet(con, SETTINGS, rep.owner, coached, warnings, None,
                                                "export.csv") for rep in coached.reps]),
        "qbr": qbr(con, SETTINGS, period, None),
        "report": report(con, SETTINGS, None),
        "data": (export_summary(con), owners(con), quota_grid(con)),
        "explore": [explore.explore(con, view, available, SETTINGS) for view in views],
        "explore_deals": explore.deals_behind(
            con, views[0], available, SETTINGS, "Rep 1"
        )["opportunity_id"].tolist(),
        "changes": changed_deals(
            compare(
                snapshot_of_export(week_before, SETTINGS.as_of - timedelta(days=7)),
                snapshot_of_export(export, SETTINGS.as_of),
                SETTINGS,
            )
        ),
    }  # fmt: skip
    return {page: repr(result) for page, result in shown.items()}


def changed_deals(changes) -> tuple:
    # Not the snapshots themselves: they hold the export's columns.
    assert changes.deals, "the two exports differ: deals must have changed"
    return (changes.waterfall, changes.deals, changes.matched_by, changes.warnings)


def test_the_export_names_the_querys_own_values_as_its_sql_does():
    # The test stands on finding them: weighted (close today, the team's top deals), explore_by.
    assert {"weighted", "explore_by", "first_won", "pushes", "first_wins", "first_row"} <= set(
        ALIASES
    )


@pytest.fixture(scope="module")
def plain() -> dict[str, str]:
    return figures(with_extra_columns=False)


@pytest.fixture(scope="module")
def with_extras() -> dict[str, str]:
    return figures(with_extra_columns=True)


@pytest.fixture(scope="module")
def picklists_as_text() -> dict[str, str]:
    return figures(with_extra_columns=False, picklists_as_text=True)


@pytest.mark.parametrize("page", ["pacing", "close_today", "warnings", "coaching", "qbr",
                                  "report", "data", "explore", "explore_deals", "changes"])  # fmt: skip
def test_columns_named_like_the_querys_own_values_change_no_figure(page, plain, with_extras):
    assert with_extras[page] == plain[page]


@pytest.mark.parametrize("page", ["pacing", "close_today", "warnings", "coaching", "qbr",
                                  "report", "data", "explore", "explore_deals", "changes"])  # fmt: skip
def test_picklists_held_as_text_change_no_figure(page, plain, picklists_as_text):
    assert picklists_as_text[page] == plain[page]
