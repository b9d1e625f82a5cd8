"""Stages whose signals disagree (a name that says closed, a column that says open): the
questions the Data page asks rather than picking silently."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from lib.load.layouts import fold
from lib.load.mapping import Mapping
from lib.load.stages import STATUSES, StageRule, status_from_stage_name

STAGE_NAME = "stage name"
# Words that make a stage sound closed without saying won or lost ("Closed: abandoned").
CLOSED_WORDS = frozenset(("closed", "abandoned", "dead", "cancelled", "canceled", "churned"))
# Signals a column gives: the field's key in the mapping (stage_signals.sql names them so).
COLUMN_SIGNALS = ("is_closed", "is_won", "status", "probability", "loss_reason", "won_date",
                  "lost_date", "actual_close_date")  # fmt: skip

# What stage_signals.sql gives: (stage, signal, verdict, deals).
SaidRow = tuple[str, str, str, int]


@dataclass(frozen=True)
class StageQuestion:
    """A stage whose deals the figures count as `counted` while some signal says `proposed`.

    `signals` says who said what: each signal (the stage name, or a column by its header) and
    how many of the stage's deals it called open, closed, won or lost.
    """

    stage: str
    deals: int
    counted: str
    proposed: str
    signals: dict[str, dict[str, int]]

    @property
    def disagreement(self) -> str:
        """ "named closed, but Is Deal Closed? and Deal probability say open"."""
        against = _voices(self.signals, lambda verdict: not fits(verdict, self.counted))
        behind = _voices(self.signals, lambda verdict: fits(verdict, self.counted))
        return f"{against}, but {behind or f'counted {self.counted}'}"


def fits(verdict: str, status: str) -> bool:
    """A signal's verdict agrees with a status: "closed" agrees with won and with lost."""
    return verdict == status or (verdict == "closed" and status != "open")


def name_says(stage: str) -> str | None:
    """What a stage's name says: won or lost ("Closed Won", "Lost"), closed ("Closed:
    abandoned"), or nothing ("Negotiation": a won deal may stay in its last open stage)."""
    status = status_from_stage_name(stage)
    if status != "open":
        return status
    if set(re.findall(r"[a-z]+", stage.lower())) & CLOSED_WORDS:
        return "closed"
    return None


def stage_questions(
    rules: list[StageRule], said: list[SaidRow], mapping: Mapping
) -> tuple[StageQuestion, ...]:
    """A question for each stage, in the rules' order, that the user has not edited, whose deals
    all count as one status, and where a signal speaks against that status on every deal it
    speaks on. A stage whose deals the export states different statuses for is left alone: a
    stage answer would override what the export says of each deal."""
    by_stage: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for stage, signal, verdict, deals in said:
        by_stage[stage][signal][verdict] = deals
    questions = []
    for rule in rules:
        if rule.edited or rule.stage not in by_stage:
            continue
        signals = by_stage[rule.stage]
        counted = {
            rule.status if status == "unstated" else status
            for status in signals.pop("export_status")
        }
        if len(counted) != 1:
            continue
        question = _question(rule, counted.pop(), _named(rule, signals, mapping))
        if question is not None:
            questions.append(question)
    return tuple(questions)


def _named(rule: StageRule, signals: dict[str, dict[str, int]], mapping: Mapping) -> dict:
    """The signals by the names the user knows: the stage name, and each column's header."""
    named = {}
    if (verdict := name_says(rule.stage)) is not None:
        named[STAGE_NAME] = {verdict: rule.deals}
    for key in COLUMN_SIGNALS:
        if key in signals and _speaks(key, mapping[key]):
            named[mapping[key]] = dict(signals[key])
    return named


def _speaks(key: str, header: str) -> bool:
    """Dynamics' Status Reason is read as a loss reason for lost deals, but it is filled for
    every deal ("In Progress"): only a column that names a loss says a deal was lost."""
    return key != "loss_reason" or "los" in fold(header)


def _question(rule: StageRule, counted: str, signals: dict) -> StageQuestion | None:
    against: dict[str, int] = defaultdict(int)
    for verdicts in signals.values():
        if not any(fits(verdict, counted) for verdict in verdicts):
            for verdict, deals in verdicts.items():
                against["lost" if verdict == "closed" else verdict] += deals
    if not against:
        return None
    proposed = max(against, key=lambda status: (against[status], -STATUSES.index(status)))
    return StageQuestion(rule.stage, rule.deals, counted, proposed, signals)


def _voices(signals: dict[str, dict[str, int]], chosen) -> str:
    """The signals whose verdicts are all `chosen`, grouped by what they say: "named closed",
    "Won time says won", "IsClosed and Probability say open"."""
    by_verdict: dict[str, list[str]] = defaultdict(list)
    for signal, verdicts in signals.items():
        if all(chosen(verdict) for verdict in verdicts):
            by_verdict["/".join(verdicts)].append(signal)
    phrases = []
    for verdict, names in by_verdict.items():
        columns = [name for name in names if name != STAGE_NAME]
        if STAGE_NAME in names:
            phrases.append(f"named {verdict}")
        if columns:
            verb = "says" if len(columns) == 1 else "say"
            phrases.append(f"{' and '.join(columns)} {verb} {verdict}")
    return " and ".join(phrases)
