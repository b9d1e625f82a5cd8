"""Tests for lib.load.stage_questions: small exports whose stage names and columns disagree, and
the question each stage raises, worked out by hand."""

from pathlib import Path

import pytest

from lib.load.errors import LoadError
from lib.load.mapping import mapping_to_json, stage_edits_from_json
from lib.load.opportunities import LoadedExport, load_opportunities
from lib.load.stage_questions import StageQuestion

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "opportunities.csv"


def lines(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def load(data: bytes, **options) -> LoadedExport:
    return load_opportunities(data, "export.csv", **options)


def statuses(loaded: LoadedExport) -> list[tuple[str, str]]:
    return [(d["stage"], d["status"]) for d in loaded.deals.to_pylist()]


# A HubSpot portal whose admin made "Closed: abandoned" an open stage at 10 %.
HUBSPOT = lines(
    "Record ID,Deal Name,Deal Stage,Amount,Close Date,Deal owner,Is Deal Closed?,Is Closed Won,"
    "Deal probability",
    "1,A,Closed: abandoned,1000,2026-01-02,Ann,false,false,10",
    "2,B,Closed: abandoned,2000,2026-02-02,Ann,false,false,10",
    "3,C,Closed: won,500,2026-02-02,Bo,true,true,100",
    "4,D,Closed: lost,700,2026-02-02,Bo,true,false,0",
    "5,E,Awaiting outcome,900,2026-06-02,Bo,false,false,60",
)
# Closeboard does not yet read HubSpot's two flags by their names: a mapping picks them.
HUBSPOT_MAPPING = {"opportunity_id": "Record ID", "name": "Deal Name", "stage": "Deal Stage",
                   "amount": "Amount", "close_date": "Close Date", "owner": "Deal owner",
                   "is_closed": "Is Deal Closed?", "is_won": "Is Closed Won",
                   "probability": "Deal probability"}  # fmt: skip
# (stage, deals, counted as, proposed, who said what)
ABANDONED = StageQuestion("Closed: abandoned", 2, "open", "lost", {
    "stage name": {"closed": 2}, "Is Deal Closed?": {"open": 2}, "Deal probability": {"open": 2}
})  # fmt: skip


def test_a_stage_named_closed_that_hubspot_marks_open_is_asked_about_and_stays_open():
    loaded = load(HUBSPOT, mapping=HUBSPOT_MAPPING)
    assert loaded.report.questions == (ABANDONED,)
    assert ABANDONED.disagreement == (
        "named closed, but Is Deal Closed? and Deal probability say open"
    )
    assert statuses(loaded) == [
        ("Closed: abandoned", "open"),
        ("Closed: abandoned", "open"),
        ("Closed: won", "won"),
        ("Closed: lost", "lost"),
        ("Awaiting outcome", "open"),
    ]


def test_hubspots_flags_are_read_without_a_mapping_and_the_probability_alone_also_disagrees():
    # "Is Deal Closed?" and "Is Closed Won" map by themselves: the same question as with the
    # saved mapping.
    assert load(HUBSPOT).report.questions == (ABANDONED,)
    data = HUBSPOT.replace(b"Is Deal Closed?", b"Notes 1").replace(b"Is Closed Won", b"Notes 2")
    (question,) = load(data).report.questions
    assert question.signals == {"stage name": {"closed": 2}, "Deal probability": {"open": 2}}
    assert question.disagreement == "named closed, but Deal probability says open"


def test_answering_the_question_with_a_stage_edit_counts_the_deals_lost_and_asks_no_more():
    edits = {"Closed: abandoned": {"status": "lost", "probability": 0.1, "late": False}}
    loaded = load(HUBSPOT, mapping=HUBSPOT_MAPPING, stage_edits=edits)
    assert loaded.report.questions == ()
    assert statuses(loaded)[:2] == [("Closed: abandoned", "lost"), ("Closed: abandoned", "lost")]


def test_a_salesforce_stage_named_closed_but_not_closed_by_isclosed_is_asked_about():
    data = lines(
        "Id,Name,StageName,Amount,CloseDate,OwnerId,IsClosed,IsWon,Probability",
        "1,A,Closed - No Decision,100,2026-01-02,005A,false,false,10",
        "2,B,Closed Won,200,2026-01-03,005A,true,true,100",
        "3,C,Closed Lost,300,2026-01-04,005A,true,false,0",
        "4,D,Negotiation/Review,400,2026-03-04,005A,false,false,90",
    )
    assert load(data).report.questions == (
        StageQuestion("Closed - No Decision", 1, "open", "lost", {
            "stage name": {"closed": 1}, "IsClosed": {"open": 1}, "Probability": {"open": 1}
        }),
    )  # fmt: skip


# A stage named lost whose deals keep a probability; an open stage whose deals have lost reasons.
NAMED_LOST = lines(
    "Owner,Stage,Amount,Close Date,Probability",
    "Ann,Closed Lost,100,2026-01-02,10",
    "Ann,Closed Lost,200,2026-01-03,20",
    "Ann,Proposal,300,2026-04-03,75",
)
LOST_REASONS = lines(
    "Owner,Stage,Amount,Close Date,Lost Reason",
    "Ann,Negotiation,100,2026-01-02,Went with a competitor",
    "Ann,Negotiation,200,2026-01-03,No budget",
    "Ann,Proposal,300,2026-04-03,",
)


@pytest.mark.parametrize(
    ("data", "asked", "disagreement"),
    [
        (NAMED_LOST,
         StageQuestion("Closed Lost", 2, "lost", "open",
                       {"stage name": {"lost": 2}, "Probability": {"open": 2}}),
         "Probability says open, but named lost"),
        (LOST_REASONS,
         StageQuestion("Negotiation", 2, "open", "lost", {"Lost Reason": {"lost": 2}}),
         "Lost Reason says lost, but counted open"),
    ],
    ids=["named lost with a probability", "open with lost reasons"],
)  # fmt: skip
def test_a_column_that_disagrees_with_how_a_stage_counts_is_asked_about(data, asked, disagreement):
    (question,) = load(data).report.questions
    assert question == asked
    assert question.disagreement == disagreement


def test_a_closed_sounding_stage_with_no_column_to_say_otherwise_is_asked_about():
    data = lines("Owner,Stage,Amount,Close Date", "Ann,Dead,100,2026-01-02")
    assert load(data).report.questions == (
        StageQuestion("Dead", 1, "open", "lost", {"stage name": {"closed": 1}}),
    )


def test_a_pipedrive_stage_holding_open_won_and_lost_deals_asks_nothing():
    data = lines(
        "Deal - Title,Deal - Owner,Deal - Stage,Deal - Status,Deal - Value,"
        "Deal - Expected close date,Deal - Won time,Deal - Lost time,Deal - Lost reason",
        "A,Ann,Negotiation,open,100,2026-03-02,,,",
        "B,Ann,Negotiation,won,200,2026-01-02,2026-01-05,,",
        "C,Ann,Negotiation,lost,300,2026-01-02,,2026-01-09,Price",
    )
    assert load(data).report.questions == ()


def test_a_pipedrive_won_time_on_a_deal_the_status_calls_open_is_asked_about():
    data = lines(
        "Deal - Title,Deal - Owner,Deal - Stage,Deal - Status,Deal - Value,"
        "Deal - Expected close date,Deal - Won time",
        "A,Ann,Contract signed,open,100,2026-03-02,2026-02-27",
        "B,Ann,Proposal,open,200,2026-03-02,",
    )
    (question,) = load(data).report.questions
    assert question.signals == {"Deal - Status": {"open": 1}, "Deal - Won time": {"won": 1}}
    assert (question.counted, question.proposed) == ("open", "won")
    assert question.disagreement == "Deal - Won time says won, but Deal - Status says open"


def test_dynamics_status_reason_filled_for_every_deal_is_not_read_as_lost():
    data = lines(
        "Topic,Owner,Status,Status Reason,Pipeline Phase,Est. Revenue,Est. Close Date,"
        "Actual Close Date",
        "A,Ann,Open,In Progress,Propose,$100.00,2026-03-02,",
        "B,Ann,Won,Won,Close,$200.00,2026-01-02,2026-01-05",
    )
    assert load(data).report.questions == ()


def test_the_sample_data_asks_nothing():
    assert load(SAMPLE.read_bytes()).report.questions == ()


def test_a_mapping_file_carries_the_answers_and_refuses_an_edit_the_page_would_not_make():
    edits = {"Closed: abandoned": {"status": "lost", "probability": 0.1, "late": False}}
    saved = mapping_to_json(HUBSPOT_MAPPING, ("Deal Stage",), edits)
    assert stage_edits_from_json(saved) == edits
    assert stage_edits_from_json(mapping_to_json(HUBSPOT_MAPPING, ())) == {}
    malformed = saved.replace('"lost"', '"gone"')
    with pytest.raises(LoadError, match="each stage needs a status"):
        stage_edits_from_json(malformed)
