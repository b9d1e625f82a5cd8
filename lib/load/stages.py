"""The stage table: each stage's status, default probability and late-stage mark, and why."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from lib.load.layouts import Layout, fold

STATUSES = ("open", "won", "lost")

# Stage-name keywords and the probability they suggest, for stages no vendor list knows.
# Checked in order: "Proposal sent" is a proposal, not a lead.
KEYWORD_PROBABILITIES: tuple[tuple[str, float], ...] = (
    ("negotiat", 0.90),
    ("contract", 0.90),
    ("commit", 0.90),
    ("verbal", 0.90),
    ("close", 0.80),
    ("proposal", 0.75),
    ("quote", 0.75),
    ("propose", 0.60),
    ("decision", 0.60),
    ("demo", 0.50),
    ("presentation", 0.50),
    ("solution", 0.50),
    ("value", 0.50),
    ("develop", 0.30),
    ("engag", 0.30),
    ("discovery", 0.20),
    ("needs", 0.20),
    ("qualif", 0.10),
    ("prospect", 0.10),
    ("lead", 0.05),
)


@dataclass(frozen=True)
class StageRule:
    """How deals in one stage are read; `source` says where the probability came from."""

    stage: str
    status: str
    probability: float
    late: bool = False
    source: str = ""
    deals: int = 0
    edited: bool = False


def status_from_stage_name(stage: str) -> str:
    """ "Closed Won", "closedwon", "Won" are won; "Closed Lost", "Lost - no budget" are lost."""
    words = set(re.findall(r"[a-z]+", stage.lower()))
    folded = fold(stage)
    if "won" in words or folded.startswith("closedwon"):
        return "won"
    if words & {"lost", "disqualified"} or folded.startswith("closedlost"):
        return "lost"
    return "open"


def keyword_probability(stage: str) -> float | None:
    folded = fold(stage)
    return next((p for word, p in KEYWORD_PROBABILITIES if word in folded), None)


def stage_rules(
    stages_in_order: list[tuple[str, int, str | None]], layout: Layout
) -> list[StageRule]:
    """Rules for each (stage, deal count, status the export states) in sales-process order.

    The probability is the vendor's default for the stage, else a keyword rule, else a value
    spaced evenly by the stage's position among the stages nothing else explains.
    """
    rules: list[StageRule] = []
    unexplained: list[int] = []
    for stage, deals, stated_status in stages_in_order:
        status = stated_status or status_from_stage_name(stage)
        if status != "open":
            probability, source = (1.0 if status == "won" else 0.0), f"{status} deals"
        elif fold(stage) in layout.stage_probabilities:
            probability, source = layout.stage_probabilities[fold(stage)], f"{layout.name} default"
        elif (guess := keyword_probability(stage)) is not None:
            probability, source = guess, "stage name"
        else:
            probability, source = 0.0, "stage order"
            unexplained.append(len(rules))
        rules.append(StageRule(stage, status, probability, source=source, deals=deals))
    for position, index in enumerate(unexplained):
        spaced = 0.1 + 0.8 * position / max(len(unexplained) - 1, 1)
        rules[index] = replace(rules[index], probability=round(spaced, 2))
    # Open stages in sales-process order, then won, then lost.
    return sorted(rules, key=lambda rule: STATUSES.index(rule.status))


def apply_edits(rules: list[StageRule], edits: dict[str, dict[str, object]]) -> list[StageRule]:
    """The user's edits from the Data page override the derived status, probability and mark."""
    edited: list[StageRule] = []
    for rule in rules:
        change = edits.get(rule.stage)
        if not change:
            edited.append(rule)
            continue
        status = str(change.get("status", rule.status))
        if status not in STATUSES:
            status = rule.status
        edited.append(
            replace(
                rule,
                status=status,
                probability=float(change.get("probability", rule.probability)),
                late=bool(change.get("late", rule.late)),
                source="your edit",
                edited=True,
            )
        )
    return edited


def with_edit(
    edits: dict[str, dict[str, object]], rule: StageRule, change: dict[str, object]
) -> dict[str, dict[str, object]]:
    """The stage edits after the user changed this rule's status, probability (0–1) or mark.

    An edit records all three values, so a stage once edited no longer follows the export.
    """
    current = edits.get(rule.stage) or {
        "status": rule.status,
        "probability": rule.probability,
        "late": rule.late,
    }
    known = {key: value for key, value in change.items() if key in current}
    return {**edits, rule.stage: {**current, **known}}
