"""Each rep's track record from saved snapshots: close-today follow-through, forecast accuracy.

Follow-through. A deal is *named* when it is on its rep's close-today list as that list stood at
a saved snapshot: lib.close_today's rule run over the snapshot's deals with the snapshot's date
as the as-of date and the settings' window, stale deals left out. Snapshots dated in the
`follow_through_weeks` weeks before the as-of date are read ([as_of − 7 × weeks, as_of)); a deal
on the lists of two snapshots is named twice, and each naming has one outcome. What became of a
named deal is read from its *sightings*: the same opportunity ID in the later snapshots (dated
after the naming one and before the as-of date) and in the current export, the latest truth.
With c its close date at the naming snapshot s, and its latest sighting:

- won: the latest sighting shows it won with a close date on or before s + 7 days;
- lost: the latest sighting shows it lost with a close date on or before s + 7 days;
- pushed: otherwise, a sighting shows it open with a close date later than c;
- closed_later: otherwise, the latest sighting shows it won or lost with a close date after
  s + 7 days (closed late, its close date never moved later while it was open);
- still_open: otherwise, it is open in the latest sighting, its close date never moved later;
- unknown: it is in no later snapshot and not in the current export (deleted, merged or
  filtered out of the export): counted apart, in no other outcome.

A deal *pushed twice* is one whose namings had the outcome "pushed" at two snapshots or more.
Amounts are the deals' amounts as they stood on the list (what was named), so the outcomes add
up to what was named.

Forecast accuracy. The as-of date is d days into its fiscal quarter; for each earlier quarter
from the first snapshot's on, the snapshot saved on the day d days into that quarter (clamped to
its end), or the nearest before it within SAME_WEEK_DAYS and inside the quarter, stands for
"this point of that quarter". From its deals, lib.pacing's commit (closed to date + in-period
Commit) and best case (+ in-period Best Case) per rep; actual = what the rep won in that quarter,
read from the current export. error = (projected − actual) ÷ actual, null when either is unknown
or nothing was won; the mean absolute error and the bias (mean error) over the quarters that
have one.

Deals are read from snapshots with the session's reps and rates, as the session reads its own.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lib import store
from lib.changes import GENERATED_ID, ID_KEY, NAME_KEY
from lib.close_today import close_today, every_deal
from lib.db import open_database
from lib.fiscal import (
    Period,
    fiscal_quarter,
    previous_quarter,
    quarters_between,
    week_of_period,
)
from lib.format import money, percent
from lib.pacing import pacing
from lib.session import Session
from lib.settings import Settings

LOG = logging.getLogger(__name__)

# How long a named deal has to close for it to count as followed through.
FOLLOW_DAYS = 7
# A snapshot stands for a past quarter's week when it was saved on the same day of the quarter as
# the as-of date, or up to six days before: the same week, for snapshots saved once a week.
SAME_WEEK_DAYS = 6

WON, LOST, PUSHED, CLOSED_LATER, STILL_OPEN, UNKNOWN = (
    "won", "lost", "pushed", "closed_later", "still_open", "unknown"
)  # fmt: skip
OUTCOMES = (WON, LOST, PUSHED, CLOSED_LATER, STILL_OPEN, UNKNOWN)
OUTCOME_LABELS = {
    WON: f"Won within {FOLLOW_DAYS} days",
    LOST: f"Lost within {FOLLOW_DAYS} days",
    PUSHED: "Pushed",
    CLOSED_LATER: "Closed later",
    STILL_OPEN: "Still open",
    UNKNOWN: "Not seen again",
}
# Where a user saves snapshots: the Changes page's button, by the names the app gives them.
SAVE_ADVICE = (
    "save a snapshot each week to see this (“Save as snapshot” on “What changed since last week?”)"
)


@dataclass(frozen=True)
class History:
    """What a track record is read from: saved snapshots, oldest first; the current export's
    deals as the session resolved them; the reps and rates to read the snapshots' deals with.
    `unreadable` says why the store could not be read, when it could not. `saved` dates every
    snapshot in the store, read or not (the first of them is the first quarter reachable);
    None: the snapshots given are all there are."""

    snapshots: tuple[store.Snapshot, ...]
    current: pa.Table
    reps: pa.Table | None = None
    rates: dict[str, float] | None = None
    unreadable: str | None = None
    saved: tuple[date, ...] | None = None

    @property
    def saved_dates(self) -> tuple[date, ...]:
        if self.saved is not None:
            return self.saved
        return tuple(snapshot.as_of for snapshot in self.snapshots)


@dataclass(frozen=True)
class NamedDeal:
    """A deal on a rep's close-today list at a snapshot, and what became of it."""

    named_on: date
    opportunity_id: str
    owner: str
    name: str | None
    amount: Decimal | None
    close_date: date
    outcome: str


@dataclass(frozen=True)
class OutcomeCounts:
    """How many namings had each outcome, and their amounts as named: of the deals that had
    one (`without_amount` did not: no amount in the export, or a currency without a rate)."""

    counts: dict[str, int]
    amounts: dict[str, Decimal]
    without_amount: int = 0

    @property
    def named(self) -> int:
        return sum(self.counts.values())

    @property
    def named_amount(self) -> Decimal:
        return sum(self.amounts.values(), Decimal(0))

    @property
    def won_share(self) -> float | None:
        """Won within 7 days ÷ named; None when nothing was named."""
        return self.counts[WON] / self.named if self.named else None


@dataclass(frozen=True)
class SnapshotFollowThrough:
    """One rep's list at one snapshot: what was named and what became of it."""

    as_of: date
    # Days between the snapshot and the as-of date, at most FOLLOW_DAYS: under 7, the deals
    # still open may yet close within the week.
    days_followed: int
    outcomes: OutcomeCounts


@dataclass(frozen=True)
class RepFollowThrough:
    owner: str
    weeks: int
    snapshots: tuple[SnapshotFollowThrough, ...]
    total: OutcomeCounts
    pushed_twice: int
    deals: tuple[NamedDeal, ...] = field(repr=False)


@dataclass(frozen=True)
class QuarterAccuracy:
    """A rep's commit and best case at the same point of a past quarter, against its result."""

    period: Period
    # The day as far into that quarter as the as-of date is into its own.
    same_day: date
    snapshot: date | None
    commit: float | None
    best_case: float | None
    actual: float

    @property
    def commit_error(self) -> float | None:
        return forecast_error(self.commit, self.actual)

    @property
    def best_case_error(self) -> float | None:
        return forecast_error(self.best_case, self.actual)


@dataclass(frozen=True)
class RepAccuracy:
    owner: str
    quarters: tuple[QuarterAccuracy, ...]

    @property
    def commit_mean_abs_error(self) -> float | None:
        return mean_abs([q.commit_error for q in self.quarters])

    @property
    def commit_bias(self) -> float | None:
        return mean([q.commit_error for q in self.quarters])

    @property
    def best_case_mean_abs_error(self) -> float | None:
        return mean_abs([q.best_case_error for q in self.quarters])

    @property
    def best_case_bias(self) -> float | None:
        return mean([q.best_case_error for q in self.quarters])


@dataclass(frozen=True)
class TrackRecord:
    """Every rep's follow-through and forecast accuracy; where a part is empty, why."""

    follow_through: dict[str, RepFollowThrough]
    accuracy: dict[str, RepAccuracy]
    follow_through_note: str | None
    accuracy_note: str | None
    weeks: int
    # The snapshots followed, with nothing named: a rep absent from every list.
    nothing_named: tuple[SnapshotFollowThrough, ...] = ()

    def rep_follow_through(self, owner: str) -> RepFollowThrough | None:
        """The rep's follow-through (nothing named at each snapshot when they were on no list);
        None when no snapshot was followed."""
        if self.follow_through_note is not None:
            return None
        nothing = outcome_counts([])
        return self.follow_through.get(owner) or RepFollowThrough(
            owner, self.weeks, self.nothing_named, nothing, 0, ()
        )


def forecast_error(projected: float | None, actual: float | None) -> float | None:
    """(projected − actual) ÷ actual; None when either is unknown or nothing was won."""
    if projected is None or not actual:
        return None
    return (projected - actual) / actual


def mean(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) / len(known) if known else None


def mean_abs(values: Sequence[float | None]) -> float | None:
    return mean([abs(value) if value is not None else None for value in values])


# --- Reading the snapshots (the one place) --------------------------------------------------------


def follow_through_dates(dates: Sequence[date], settings: Settings) -> list[date]:
    """The snapshot dates whose lists are followed: in the weeks before the as-of date."""
    first = settings.as_of - timedelta(days=7 * settings.follow_through_weeks)
    return [day for day in dates if first <= day < settings.as_of]


def past_quarters(dates: Sequence[date], settings: Settings) -> list[tuple[Period, date]]:
    """Each quarter before the as-of date's, from the first snapshot's on, with the day as far
    into it as the as-of date is into its own (clamped to its end)."""
    if not dates:
        return []
    this_quarter = fiscal_quarter(settings.as_of, settings)
    into = settings.as_of - this_quarter.start
    last = previous_quarter(this_quarter, settings).end
    return [
        (quarter, min(quarter.start + into, quarter.end))
        for quarter in quarters_between(min(dates), last, settings)
    ]


def same_week(quarter: Period, same_day: date) -> tuple[date, date]:
    """The days a snapshot may be of to stand for `same_day`: it, and up to SAME_WEEK_DAYS
    before it inside the quarter."""
    return max(quarter.start, same_day - timedelta(days=SAME_WEEK_DAYS)), same_day


def same_week_snapshot(dates: Sequence[date], quarter: Period, same_day: date) -> date | None:
    """The snapshot saved on `same_day`, else the latest up to SAME_WEEK_DAYS before it and inside
    the quarter; None when there is none."""
    earliest, latest = same_week(quarter, same_day)
    candidates = [day for day in dates if earliest <= day <= latest]
    return max(candidates) if candidates else None


def dates_to_read(dates: Sequence[date], settings: Settings) -> list[date]:
    """The snapshots a track record reads, of those saved: no more."""
    accuracy = [same_week_snapshot(dates, q, day) for q, day in past_quarters(dates, settings)]
    return sorted(set(follow_through_dates(dates, settings)) | {d for d in accuracy if d})


def read_history(session: Session) -> History:
    """The session's saved snapshots that a track record needs, read from its store; none, with
    the reason, when the store cannot be read."""
    current = session.resolved.deals
    reps = session.reps.reps if session.reps else None
    rates = snapshot_rates(session)
    if session.store is None:
        return History((), current, reps, rates)
    try:
        saved = [entry["as_of"] for entry in session.store.list_snapshots()]
        wanted = dates_to_read(saved, session.settings)
        snapshots = tuple(session.store.read_snapshot(day) for day in wanted)
    except store.StoreError as error:
        LOG.warning("No track record: the snapshot store cannot be read", exc_info=True)
        return History((), current, reps, rates, unreadable=error.message)
    return History(snapshots, current, reps, rates, saved=tuple(saved))


def snapshot_rates(session: Session) -> dict[str, float] | None:
    """The rates a snapshot's amounts are read with: the session's. A snapshot keeps each deal's
    own amount, not the CRM's converted one: where the session shows converted amounts of
    several currencies, only the display currency's deals keep theirs in a snapshot (the
    others count as without an amount) rather than adding euros to dollars."""
    currencies = session.export.report.currencies
    if session.converted_amounts and len(currencies) > 1 and session.currency:
        return {session.currency: 1.0}
    return session.rates


# --- Follow-through -------------------------------------------------------------------------------


def _snapshot_connection(history: History, snapshot: store.Snapshot) -> duckdb.DuckDBPyConnection:
    """A private database over a snapshot's deals, owners and amounts resolved as the session's.
    A snapshot keeps no row numbers: the order it was read in stands for the file's."""
    deals = snapshot.deals
    if "source_row" not in deals.column_names:
        deals = deals.append_column("source_row", pa.array(range(deals.num_rows), pa.int64()))
    return open_database(deals, reps=history.reps, rates=history.rates)


def _named_at(history: History, snapshot: store.Snapshot, settings: Settings) -> list[NamedDeal]:
    """The deals on every rep's close-today list at the snapshot, outcome not yet known."""
    con = _snapshot_connection(history, snapshot)
    try:
        lists = close_today(con, replace(settings, as_of=snapshot.as_of))
        return [
            NamedDeal(snapshot.as_of, deal.opportunity_id, deal.owner, deal.name, deal.amount,
                      deal.close_date, UNKNOWN)
            for deal in every_deal(lists)
        ]  # fmt: skip
    finally:
        con.close()


def _matched_by_name(history: History) -> bool:
    """Whether deals are recognised by name, account and owner rather than by ID: as on the
    Changes page, when any of the exports had no IDs and the loader made them up."""
    pattern = f"^{GENERATED_ID}$"
    tables = [snapshot.deals for snapshot in history.snapshots] + [history.current]
    return any(
        pc.any(
            pc.match_substring_regex(pc.cast(table["opportunity_id"], pa.string()), pattern)
        ).as_py()
        for table in tables
    )


def _keyed(sources: Sequence[tuple[date, pa.Table]], by_name: bool) -> list[tuple[date, pa.Table]]:
    """Each source's deals as (date, deals): their ID, the key each is recognised by from one
    export to the next (lib.changes' rule), status and close date. One connection for all."""
    key = NAME_KEY.format(within="") if by_name else ID_KEY
    sql = (
        f"SELECT opportunity_id::VARCHAR AS opportunity_id, ({key})::VARCHAR AS deal_key, "  # noqa: S608
        "status::VARCHAR AS status, close_date FROM deals"
    )
    con = duckdb.connect()
    try:
        keyed = []
        for day, deals in sources:
            con.register("deals", deals)
            keyed.append((day, con.sql(sql).to_arrow_table()))
            con.unregister("deals")
        return keyed
    finally:
        con.close()


def _sightings(
    keys: set[str], sources: Sequence[tuple[date, pa.Table]]
) -> dict[str, list[tuple[date, str, date | None]]]:
    """Each deal's (date, status, close date), by its key, in the keyed `sources` (date, deals),
    oldest first."""
    wanted = pa.array(sorted(keys), pa.string())
    seen: dict[str, list[tuple[date, str, date | None]]] = {}
    for day, deals in sources:
        rows = deals.filter(pc.is_in(deals["deal_key"], value_set=wanted))
        for key, status, close in zip(
            rows["deal_key"].to_pylist(),
            rows["status"].to_pylist(),
            rows["close_date"].to_pylist(),
            strict=True,
        ):
            seen.setdefault(key, []).append((day, status, close))
    return seen


def outcome(
    named_on: date, close_date: date, sightings: Sequence[tuple[date, str, date | None]]
) -> str:
    """What became of a deal named on `named_on` with `close_date`, from its later sightings
    (date, status, close date), oldest first: see the module's docstring."""
    if not sightings:
        return UNKNOWN
    _, status, closed_on = sightings[-1]
    within = named_on + timedelta(days=FOLLOW_DAYS)
    if status in (WON, LOST) and closed_on is not None and closed_on <= within:
        return status
    if any(s == "open" and c is not None and c > close_date for _, s, c in sightings):
        return PUSHED
    if status in (WON, LOST):
        return CLOSED_LATER
    return STILL_OPEN


def named_deals(history: History, settings: Settings) -> list[NamedDeal]:
    """Every naming at the snapshots of the follow-through window, with its outcome."""
    followed = follow_through_dates([s.as_of for s in history.snapshots], settings)
    if not followed:
        return []
    by_name = _matched_by_name(history)
    sources = _keyed(
        [(s.as_of, s.deals) for s in history.snapshots if followed[0] <= s.as_of < settings.as_of]
        + [(settings.as_of, history.current)],
        by_name,
    )
    named = []
    for snapshot in history.snapshots:
        if snapshot.as_of not in followed:
            continue
        deals = _named_at(history, snapshot, settings)
        keyed = dict(sources)[snapshot.as_of]
        key_of = dict(zip(keyed["opportunity_id"].to_pylist(), keyed["deal_key"].to_pylist(),
                          strict=True))  # fmt: skip
        later = [(day, table) for day, table in sources if day > snapshot.as_of]
        seen = _sightings({key_of[deal.opportunity_id] for deal in deals}, later)
        named += [
            replace(deal, outcome=outcome(deal.named_on, deal.close_date,
                                          seen.get(key_of[deal.opportunity_id], [])))
            for deal in deals
        ]  # fmt: skip
    return named


def outcome_counts(deals: Sequence[NamedDeal]) -> OutcomeCounts:
    counts = Counter(deal.outcome for deal in deals)
    amounts = {kind: Decimal(0) for kind in OUTCOMES}
    for deal in deals:
        amounts[deal.outcome] += deal.amount or Decimal(0)
    without_amount = sum(1 for deal in deals if deal.amount is None)
    return OutcomeCounts({kind: counts[kind] for kind in OUTCOMES}, amounts, without_amount)


def follow_through(history: History, settings: Settings) -> dict[str, RepFollowThrough]:
    """Each rep named at any followed snapshot: their list at each of those snapshots (0 named
    where they had none) and the totals. Empty when no snapshot lies in the window."""
    followed = follow_through_dates([s.as_of for s in history.snapshots], settings)
    deals = named_deals(history, settings)
    reps = {}
    for owner in sorted({deal.owner for deal in deals}):
        mine = [deal for deal in deals if deal.owner == owner]
        pushes = Counter(deal.opportunity_id for deal in mine if deal.outcome == PUSHED)
        reps[owner] = RepFollowThrough(
            owner=owner,
            weeks=settings.follow_through_weeks,
            snapshots=_by_snapshot(mine, followed, settings),
            total=outcome_counts(mine),
            pushed_twice=sum(1 for count in pushes.values() if count >= 2),
            deals=tuple(mine),
        )
    return reps


def _by_snapshot(
    deals: Sequence[NamedDeal], followed: Sequence[date], settings: Settings
) -> tuple[SnapshotFollowThrough, ...]:
    return tuple(
        SnapshotFollowThrough(
            day,
            min((settings.as_of - day).days, FOLLOW_DAYS),
            outcome_counts([deal for deal in deals if deal.named_on == day]),
        )
        for day in followed
    )


def follow_through_note(history: History, settings: Settings) -> str | None:
    """Why there is no follow-through to show, or None."""
    if history.unreadable:
        return f"the snapshot store cannot be read: {history.unreadable}"
    if not follow_through_dates([s.as_of for s in history.snapshots], settings):
        weeks = settings.follow_through_weeks
        return (
            f"no snapshot saved in the {weeks} week{'' if weeks == 1 else 's'} before "
            f"{settings.as_of:%-d %b %Y}: {SAVE_ADVICE}"
        )
    return None


def follow_through_line(rep: RepFollowThrough | None, currency: str | None) -> str:
    """ "Last 6 weeks: 14 deals named ($420K) at 5 snapshots: 9 won within 7 days ($300K),
    1 lost, 3 pushed (2 of them twice), 1 not seen again"."""
    if rep is None or not rep.total.named:
        return "Nothing named on the close-today lists of the snapshots followed."
    total = rep.total
    counts = total.counts
    lists = sum(1 for snapshot in rep.snapshots if snapshot.outcomes.named)
    unpriced = (
        f"; {total.without_amount} without an amount, not in it" if total.without_amount else ""
    )
    parts = [
        f"{_deals(total.named)} named ({money(total.named_amount, currency)}{unpriced}) at "
        f"{lists} snapshot{'' if lists == 1 else 's'}: {counts[WON]} won within {FOLLOW_DAYS} "
        f"days ({money(total.amounts[WON], currency)})",
        f"{counts[LOST]} lost",
        f"{counts[PUSHED]} pushed" + (f" ({_deals(rep.pushed_twice)} twice)" if rep.pushed_twice
                                       else ""),
    ]  # fmt: skip
    for kind, words in ((CLOSED_LATER, "closed later"), (STILL_OPEN, "still open"),
                        (UNKNOWN, "not seen again")):  # fmt: skip
        if counts[kind]:
            parts.append(f"{counts[kind]} {words}")
    return f"Last {rep.weeks} week{'' if rep.weeks == 1 else 's'}: " + ", ".join(parts)


def _deals(count: int) -> str:
    return "1 deal" if count == 1 else f"{count} deals"


def follow_through_rows(rep: RepFollowThrough, currency: str | None) -> list[tuple[str, ...]]:
    """One row per followed snapshot: its date, then named and each outcome ("3 · $120K")."""
    rows = []
    for snapshot in rep.snapshots:
        found = snapshot.outcomes
        day = f"{snapshot.as_of:%a %-d %b %Y}"
        if snapshot.days_followed < FOLLOW_DAYS:
            day += f" ({snapshot.days_followed} d so far)"
        cells = [_count_worth(found.named, found.named_amount, currency)]
        cells += [_count_worth(found.counts[k], found.amounts[k], currency) for k in OUTCOMES]
        rows.append((day, *cells))
    return rows


FOLLOW_THROUGH_COLUMNS = ("Snapshot", "Named", *OUTCOME_LABELS.values())


def _count_worth(count: int, amount: Decimal, currency: str | None) -> str:
    return f"{count} · {money(amount, currency)}" if count else "0"


# --- Forecast accuracy ----------------------------------------------------------------------------


def forecast_accuracy(history: History, settings: Settings) -> dict[str, RepAccuracy]:
    """Each rep's commit and best case at the same day of every past quarter reachable by the
    snapshots, against what they won in it; the quarters without a snapshot that week have
    null projections. Empty without snapshots."""
    dates = history.saved_dates
    by_date = {snapshot.as_of: snapshot for snapshot in history.snapshots}
    current = open_database(history.current, opportunities=history.current)
    judged = []
    try:
        for quarter, same_day in past_quarters(dates, settings):
            won = pacing(current, replace(settings, as_of=quarter.end), quarter)
            actual = {rep.owner: rep.pacing.closed_to_date for rep in won.reps}
            taken = same_week_snapshot(dates, quarter, same_day)
            projected = _projections(history, by_date[taken], quarter, settings) if taken else {}
            judged.append((quarter, same_day, taken, actual, projected))
    finally:
        current.close()
    owners = sorted({owner for *_, actual, projected in judged for owner in (*actual, *projected)})
    # A rep with no deal in a quarter's snapshot had no commit that anyone knew of: unknown.
    return {
        owner: RepAccuracy(owner, tuple(
            QuarterAccuracy(quarter, same_day, taken, *projected.get(owner, (None, None)),
                            actual.get(owner, 0.0))
            for quarter, same_day, taken, actual, projected in judged
        ))
        for owner in owners
    }  # fmt: skip


def _projections(
    history: History, snapshot: store.Snapshot, quarter: Period, settings: Settings
) -> dict[str, tuple[float, float]]:
    """Each rep's (commit, best case) for the quarter as the snapshot's deals gave them."""
    con = _snapshot_connection(history, snapshot)
    try:
        then = pacing(con, replace(settings, as_of=snapshot.as_of), quarter)
    finally:
        con.close()
    return {
        rep.owner: (rep.pacing.projection_commit, rep.pacing.projection_best_case)
        for rep in then.reps
    }


def accuracy_note(history: History, settings: Settings) -> str | None:
    """Why there is no forecast accuracy to show, or None."""
    if history.unreadable:
        return f"the snapshot store cannot be read: {history.unreadable}"
    dates = history.saved_dates
    if not any(same_week_snapshot(dates, q, day) for q, day in past_quarters(dates, settings)):
        week = week_of_period(settings.as_of, fiscal_quarter(settings.as_of, settings))
        return f"no snapshot saved in week {week} of an earlier quarter: {SAVE_ADVICE}"
    return None


def accuracy_rows(rep: RepAccuracy, currency: str | None) -> list[tuple[str, ...]]:
    """One row per past quarter: quarter, snapshot, commit, best case, won, the two errors."""
    rows = []
    for quarter in rep.quarters:
        earliest, latest = same_week(quarter.period, quarter.same_day)
        snapshot = (
            f"{quarter.snapshot:%-d %b %Y}"
            if quarter.snapshot
            else f"– none saved {earliest:%-d %b}–{latest:%-d %b %Y}"
        )
        rows.append(
            (quarter.period.label, snapshot, money(quarter.commit, currency),
             money(quarter.best_case, currency), money(quarter.actual, currency),
             _error(quarter.commit_error, quarter), _error(quarter.best_case_error, quarter))
        )  # fmt: skip
    return rows


ACCURACY_COLUMNS = ("Quarter", "Snapshot", "Commit", "Best case", "Won", "Commit error",
                    "Best-case error")  # fmt: skip


def _error(error: float | None, quarter: QuarterAccuracy) -> str:
    """The error, or "–" and why there is none (a missing snapshot says so in its own column)."""
    if error is not None:
        return percent(error, signed=True)
    if quarter.snapshot is None:
        return "–"
    if quarter.commit is None:
        return "– no deal in the snapshot"
    return "– nothing won"


def accuracy_line(rep: RepAccuracy | None) -> str:
    """ "Commit was off by 12 % on average (under by 8 %); best case by 20 % (over by 15 %),
    over 2 quarters"."""
    if rep is None:
        return "No commit or best case at this point of an earlier quarter."
    counted = sum(1 for q in rep.quarters if q.commit_error is not None)
    if not counted:
        return "– no earlier quarter with both a snapshot that week and a win to compare."
    return (
        f"Commit was off by {percent(rep.commit_mean_abs_error)} on average "
        f"({_bias(rep.commit_bias)}); best case by {percent(rep.best_case_mean_abs_error)} "
        f"({_bias(rep.best_case_bias)}), over {counted} quarter{'' if counted == 1 else 's'}."
    )


def _bias(bias: float | None) -> str:
    if bias is None:
        return "bias unknown"
    if bias == 0:
        return "no bias"
    return f"{'over' if bias > 0 else 'under'} by {percent(abs(bias))}"


# --- Both, and the JSON ---------------------------------------------------------------------------


def track_record(history: History, settings: Settings) -> TrackRecord:
    """Follow-through and forecast accuracy for every rep, from the same snapshots."""
    followed = follow_through_dates([s.as_of for s in history.snapshots], settings)
    return TrackRecord(
        follow_through=follow_through(history, settings),
        accuracy=forecast_accuracy(history, settings),
        follow_through_note=follow_through_note(history, settings),
        accuracy_note=accuracy_note(history, settings),
        weeks=settings.follow_through_weeks,
        nothing_named=_by_snapshot([], followed, settings),
    )


def _outcomes_json(found: OutcomeCounts) -> dict:
    return {
        "named": found.named,
        "named_amount": found.named_amount,
        **{kind: found.counts[kind] for kind in OUTCOMES},
        **{f"{kind}_amount": found.amounts[kind] for kind in OUTCOMES},
        "without_amount": found.without_amount,
        "won_share": found.won_share,
    }


def follow_through_json(record: TrackRecord, owner: str) -> dict | None:
    """The rep's follow-through for the JSON report; None when no snapshot was followed."""
    rep = record.rep_follow_through(owner)
    if rep is None:
        return None
    return {
        "weeks": rep.weeks,
        **_outcomes_json(rep.total),
        "pushed_twice": rep.pushed_twice,
        "snapshots": [
            {"as_of": s.as_of, "days_followed": s.days_followed, **_outcomes_json(s.outcomes)}
            for s in rep.snapshots
        ],
    }


def accuracy_json(record: TrackRecord, owner: str) -> dict | None:
    """The rep's forecast accuracy for the JSON report; None when no quarter can be judged."""
    rep = record.accuracy.get(owner)
    if record.accuracy_note is not None or rep is None:
        return None
    return {
        "quarters": [
            {
                "period": q.period.label,
                "same_day": q.same_day,
                "snapshot": q.snapshot,
                "commit": q.commit,
                "best_case": q.best_case,
                "actual": q.actual,
                "commit_error": q.commit_error,
                "best_case_error": q.best_case_error,
            }
            for q in rep.quarters
        ],
        "commit_mean_abs_error": rep.commit_mean_abs_error,
        "commit_bias": rep.commit_bias,
        "best_case_mean_abs_error": rep.best_case_mean_abs_error,
        "best_case_bias": rep.best_case_bias,
    }
