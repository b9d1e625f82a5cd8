"""Stage entries from each source, the pipeline of a past date, days in stage and stalled deals,
each worked out by hand on a small table."""

from datetime import date

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.load.opportunities import load_opportunities
from lib.load.stages import StageRule
from lib.stage_history import (
    ENTRIES_SCHEMA,
    open_on,
    snapshot_entries,
    stage_days,
    stage_entries,
    stage_on,
)
from lib.store import Snapshot, snapshot_of_export
from tests.data.bad.make_corpus import zip_of
from tests.salesforce_export import (
    FILES,
    HISTORY_HEADER,
    HISTORY_ROWS,
    O1,
    O2,
    O3,
    O4,
    O6,
    OPPORTUNITIES,
    OPPORTUNITY_HEADER,
    change,
    csv_text,
)

AS_OF = date(2026, 11, 20)


def load(text: str, filename: str = "export.csv"):
    return load_opportunities(text.encode("utf-8"), filename)


def rows(entries: pa.Table) -> list[tuple]:
    return [(r["opportunity_id"], r["stage"], r["entered_on"]) for r in entries.to_pylist()]


def entries(*found: tuple[str, str, date]) -> pa.Table:
    return pa.Table.from_pylist(
        [dict(zip(ENTRIES_SCHEMA.names, row, strict=True)) for row in found], ENTRIES_SCHEMA
    )


# --- HubSpot's wide export: a date for every stage a deal entered ------------------------------

HUBSPOT_WIDE = (
    "\n".join(
        [
            "Record ID,Deal Name,Deal Stage,Amount,Close Date,Deal owner,Create Date,Pipeline,"
            '"Date entered ""Appointment scheduled (Sales Pipeline)""",'
            '"Date entered ""Contract sent (Sales Pipeline)""",'
            '"Date exited ""Appointment scheduled (Sales Pipeline)"""',
            "9001,Acme,Contract sent,12000,2026-12-20 17:00,Ana Ruiz,2026-09-01 10:12,Sales Pipeline,"
            "2026-09-01 10:12,2026-10-15 09:00,2026-10-15 09:00",
            "9002,Globex,Appointment scheduled,5000,2026-12-01 12:00,Ben Ode,2026-11-02 09:00,"
            "Sales Pipeline,2026-11-02 09:00,,",
            "9003,Initech,Closed won,7000,2026-10-30 12:00,Ben Ode,2026-08-01 09:00,"
            "Sales Pipeline,,,",
        ]
    )
    + "\n"
)


def test_hubspot_date_entered_columns_give_an_entry_per_stage_named_in_the_header():
    export = load(HUBSPOT_WIDE, "hubspot-crm-exports-all-deals.csv")
    assert rows(stage_entries(export, AS_OF)) == [
        ("9001", "Appointment scheduled", date(2026, 9, 1)),
        ("9001", "Contract sent", date(2026, 10, 15)),
        ("9002", "Appointment scheduled", date(2026, 11, 2)),
    ]


# --- Pipedrive's current export: the day of the last stage change ------------------------------

PIPEDRIVE_CURRENT = (
    "\n".join(
        [
            '"ID","Title","Owner","Value","Currency of Value","Stage","Status","Deal created",'
            '"Last stage change","Won time","Lost time","Expected close date"',
            '"301","Acme CRM","Lena Vogel","12000","EUR","Negotiations Started","open",'
            '"2026-09-01 10:00:00","2026-10-01 10:00:00","","","2026-12-15"',
            '"302","Globex","Jonas Berg","5000","EUR","Proposal Made","won","2026-08-01 10:00:00",'
            '"2026-09-20 10:00:00","2026-10-20 10:00:00","",""',
            '"303","Initech","Jonas Berg","3000","EUR","Qualified","open","2026-07-01 10:00:00",'
            '"","","","2026-12-01"',
        ]
    )
    + "\n"
)


def test_pipedrive_last_stage_change_dates_the_current_stage_alone():
    export = load(PIPEDRIVE_CURRENT, "deals-12345-67.csv")
    assert rows(stage_entries(export, AS_OF)) == [
        ("301", "Negotiations Started", date(2026, 10, 1)),
        ("302", "Proposal Made", date(2026, 9, 20)),
    ]


# --- A Dutch Salesforce report: Stage Duration in days, with a decimal comma --------------------

DUTCH_REPORT = (
    "\n".join(
        [
            "Opportunity Owner;Account Name;Opportunity Name;Stage;Amount;Close Date;Created Date;"
            "Age;Stage Duration",
            "Eva de Vries;Acme;Acme NL;Negotiation/Review;13884,00;17-12-2026;1-9-2026;"
            "80,0000000000;7,0000000000",
            "Eva de Vries;Globex;Globex NL;Prospecting;2500,00;30-1-2027;14-11-2026;"
            "6,0000000000;6,0000000000",
            "Eva de Vries;Initech;Initech NL;Qualification;1000,00;30-1-2027;14-11-2026;;",
        ]
    )
    + "\n"
)


def test_a_dutch_reports_stage_duration_dates_the_stage_that_many_days_before_the_as_of():
    export = load(DUTCH_REPORT, "rapport.csv")
    assert export.report.decimal_comma
    ids = dict(
        zip(
            export.deals["name"].to_pylist(),
            export.deals["opportunity_id"].to_pylist(),
            strict=True,
        )
    )
    assert rows(stage_entries(export, AS_OF)) == sorted(
        [
            (ids["Acme NL"], "Negotiation/Review", date(2026, 11, 13)),
            (ids["Globex NL"], "Prospecting", date(2026, 11, 14)),
        ]
    )


# --- A Salesforce Data Export: OpportunityHistory first, LastStageChangeDate for the rest -------


def data_export_with_stage_change_dates():
    """The shared test export, its Opportunity.csv with a LastStageChangeDate column: O1 and O2
    have history rows (which win), O4 has none and is dated by its column, O6's history is the
    same stage throughout."""
    changes = {O4: "2026-10-05 00:00:00", O1: "2026-01-01 00:00:00"}
    opportunity = csv_text(
        [*OPPORTUNITY_HEADER, "LastStageChangeDate"],
        [[*deal, changes.get(deal[0], "")] for deal in OPPORTUNITIES],
    )
    history = csv_text(HISTORY_HEADER, HISTORY_ROWS)
    return load_opportunities(
        zip_of({**FILES, "Opportunity.csv": opportunity, "OpportunityHistory.csv": history}),
        "export.zip",
    )


def test_a_data_exports_history_wins_and_its_last_stage_change_date_dates_the_rest():
    export = data_export_with_stage_change_dates()
    found = stage_entries(export, AS_OF, history=export.export_files.history)
    assert rows(found) == [
        (O1, "Prospección", date(2026, 8, 1)),
        (O1, "Negociación", date(2026, 9, 20)),
        (O2, "Negociación", date(2026, 9, 1)),
        (O2, "Prospección", date(2026, 10, 1)),
        (O3, "Negociación", date(2026, 9, 1)),
        (O3, "Cerrada ganada", date(2026, 10, 20)),
        (O4, "Cerrada perdida", date(2026, 10, 5)),
        (O6, "Prospección", date(2026, 11, 2)),
    ]


def test_the_pipeline_of_past_dates_is_rebuilt_deal_by_deal_from_the_history():
    export = data_export_with_stage_change_dates()
    found = stage_entries(export, AS_OF, history=export.export_files.history)

    def on(day):
        return {r["opportunity_id"]: r["stage"] for r in stage_on(found, day).to_pylist()}

    # 31 Aug: O1 created 1 Aug in Prospección; nothing else had happened.
    assert on(date(2026, 8, 31)) == {O1: "Prospección"}
    # 15 Sep: O1 still prospecting; O2 and O3 created 1 Sep in Negociación.
    assert on(date(2026, 9, 15)) == {O1: "Prospección", O2: "Negociación", O3: "Negociación"}
    # 20 Sep, the day O1 moved: the change of that day counts.
    assert on(date(2026, 9, 20))[O1] == "Negociación"
    # 5 Oct: O2 went back to Prospección on 1 Oct; O4 lost that day.
    assert on(date(2026, 10, 5)) == {
        O1: "Negociación", O2: "Prospección", O3: "Negociación", O4: "Cerrada perdida"
    }  # fmt: skip
    # 20 Nov: O3 won on 20 Oct; O6 created 2 Nov.
    assert on(AS_OF) == {
        O1: "Negociación", O2: "Prospección", O3: "Cerrada ganada", O4: "Cerrada perdida",
        O6: "Prospección",
    }  # fmt: skip


def test_a_deleted_history_row_dates_no_stage():
    export = load_opportunities(
        zip_of(
            {
                **FILES,
                "OpportunityHistory.csv": csv_text(
                    HISTORY_HEADER,
                    [
                        change("h1", O6, "2026-11-02 09:00", "Prospección", "5000", "2026-12-31"),
                        change("h2", O6, "2026-11-05 09:00", "Negociación", "5000", "2026-12-31",
                               deleted="1"),
                    ],
                ),
            }
        ),
        "export.zip",
    )  # fmt: skip
    found = stage_entries(export, AS_OF, history=export.export_files.history)
    assert rows(found) == [(O6, "Prospección", date(2026, 11, 2))]


# --- Snapshots ----------------------------------------------------------------------------------


def snapshot(day: date, *deals: tuple[str, str]) -> Snapshot:
    table = pa.table(
        {"opportunity_id": [d for d, _ in deals], "stage": [s for _, s in deals]},
    )
    return Snapshot(day, table, (), "")


def test_a_stage_change_between_two_snapshots_is_dated_at_the_later_one():
    snapshots = [
        snapshot(date(2026, 11, 6), ("A", "Prospecting"), ("B", "Proposal")),
        snapshot(date(2026, 11, 13), ("A", "Proposal"), ("B", "Proposal"), ("C", "Prospecting")),
        snapshot(date(2026, 11, 20), ("A", "Proposal"), ("B", "Prospecting")),
    ]
    assert rows(snapshot_entries(snapshots)) == [
        ("A", "Prospecting", date(2026, 11, 6)),
        ("A", "Proposal", date(2026, 11, 13)),
        ("B", "Proposal", date(2026, 11, 6)),
        ("B", "Prospecting", date(2026, 11, 20)),
        ("C", "Prospecting", date(2026, 11, 13)),
    ]


def test_one_snapshot_alone_dates_nothing():
    assert snapshot_entries([snapshot(AS_OF, ("A", "Prospecting"))]).num_rows == 0


def test_snapshots_date_the_deals_no_dated_source_covers_and_the_stages_before_a_change_date():
    # 301 entered Negotiations Started on 1 Oct (its column); the snapshot of 15 Sep showed it
    # in Proposal Made, which it entered on or before that day. The snapshot of 1 Nov says
    # nothing the column does not. 302's column alone dates it. 303 has no date of its own:
    # the snapshots date its stages.
    export = load(PIPEDRIVE_CURRENT, "deals-12345-67.csv")
    snapshots = [
        snapshot(date(2026, 9, 15), ("301", "Proposal Made")),
        snapshot(date(2026, 11, 1), ("301", "Proposal Made"), ("303", "Lead In")),
        snapshot_of_export(export, AS_OF),
    ]
    found = stage_entries(export, AS_OF, snapshots=snapshots)
    assert rows(found) == [
        ("301", "Proposal Made", date(2026, 9, 15)),
        ("301", "Negotiations Started", date(2026, 10, 1)),
        ("302", "Proposal Made", date(2026, 9, 20)),
        ("303", "Lead In", date(2026, 11, 1)),
        ("303", "Qualified", date(2026, 11, 20)),
    ]


# --- What a plain export proves ------------------------------------------------------------------


def test_a_plain_export_proves_open_the_deals_created_by_then_and_not_closed_by_then():
    deals = pa.table(
        {
            "opportunity_id": ["A", "B", "C", "D", "E"],
            "status": ["open", "won", "lost", "won", "open"],
            "created_date": [date(2026, 1, 5), date(2026, 1, 5), date(2026, 3, 1),
                             date(2026, 1, 5), None],
            "close_date": [date(2026, 12, 1), date(2026, 2, 1), date(2026, 3, 10),
                           date(2026, 1, 31), date(2026, 12, 1)],
        }
    )  # fmt: skip
    # 31 Jan: A open; B open (won 1 Feb); C not created yet; D won that day; E's creation unknown.
    assert open_on(deals, date(2026, 1, 31))["opportunity_id"].to_pylist() == ["A", "B"]
    # 5 Mar: A; C (created 1 Mar, lost 10 Mar).
    assert open_on(deals, date(2026, 3, 5))["opportunity_id"].to_pylist() == ["A", "C"]


# --- Days in stage and stalled ----------------------------------------------------------------

RULES = (
    StageRule("Prospecting", "open", 0.1),
    StageRule("Negotiation", "open", 0.6),
    StageRule("Closed Won", "won", 1.0),
    StageRule("Closed Lost", "lost", 0.0),
)


def test_days_in_stage_and_stalled_against_twice_the_median_of_deals_that_left_the_stage():
    # Deals that left Negotiation in the trailing four quarters (1 Jan – 20 Nov 2026):
    # W1 after 10 days (won), W2 after 20 (lost), W3 after 30 (back to Prospecting): median 20.
    # X left it in 2025 after 200 days: before the window, not counted.
    # N2 left Prospecting on 12 Oct after 41 days: the median of Prospecting is 41.
    # Open: N1 in Negotiation 40 days (2 × 20: stalled), N2 39 days (not); W3 back in
    # Prospecting 173 days (≥ 82: stalled), P1 19 days (not).
    found = entries(
        ("W1", "Negotiation", date(2026, 3, 1)),
        ("W1", "Closed Won", date(2026, 3, 11)),
        ("W2", "Negotiation", date(2026, 4, 1)),
        ("W3", "Negotiation", date(2026, 5, 1)),
        ("W3", "Prospecting", date(2026, 5, 31)),
        ("X", "Negotiation", date(2025, 1, 1)),
        ("X", "Closed Won", date(2025, 7, 20)),
        ("N1", "Negotiation", date(2026, 10, 11)),
        ("N2", "Prospecting", date(2026, 9, 1)),
        ("N2", "Negotiation", date(2026, 10, 12)),
        ("P1", "Prospecting", date(2026, 11, 1)),
    )
    deals = pa.table(
        {
            "opportunity_id": ["W1", "W2", "W3", "X", "N1", "N2", "P1"],
            "stage": ["Closed Won", "Closed Lost", "Prospecting", "Closed Won", "Negotiation",
                      "Negotiation", "Prospecting"],
            "status": ["won", "lost", "open", "won", "open", "open", "open"],
            "close_date": [date(2026, 3, 11), date(2026, 4, 21), date(2026, 12, 1),
                           date(2025, 7, 20), date(2026, 12, 1), date(2026, 12, 1),
                           date(2026, 12, 1)],
        }
    )  # fmt: skip
    days = stage_days(found, deals, RULES, date(2026, 1, 1), AS_OF, 2.0)
    assert [tuple(r.values()) for r in days.to_pylist()] == [
        ("W3", "Prospecting", date(2026, 5, 31), 173, 41.0, True),
        ("N1", "Negotiation", date(2026, 10, 11), 40, 20.0, True),
        ("N2", "Negotiation", date(2026, 10, 12), 39, 20.0, False),
        ("P1", "Prospecting", date(2026, 11, 1), 19, 41.0, False),
    ]


# --- Any history ---------------------------------------------------------------------------------

DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 3, 31))
HISTORIES = st.lists(st.tuples(st.sampled_from("ABC"), st.sampled_from(("P", "N", "W")), DAYS),
                     max_size=12, unique_by=lambda row: (row[0], row[2]))  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(found=HISTORIES, on=DAYS)
def test_a_deals_stage_on_a_day_is_its_latest_entry_by_then(found, on):
    expected = {}
    for deal, stage, day in sorted(found, key=lambda row: row[2]):
        if day <= on:
            expected[deal] = stage
    table = stage_on(entries(*found), on)
    assert dict(zip(*(table[c].to_pylist() for c in ("opportunity_id", "stage")),
                    strict=True)) == expected  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    deals=st.lists(
        st.tuples(st.sampled_from(("open", "won", "lost")), st.none() | DAYS, DAYS), max_size=8
    ),
    on=DAYS,
)
def test_a_deal_is_open_on_a_day_when_created_by_then_and_not_yet_closed(deals, on):
    table = pa.table(
        {
            "opportunity_id": [str(n) for n in range(len(deals))],
            "status": [status for status, _, _ in deals],
            "created_date": pa.array([created for _, created, _ in deals], pa.date32()),
            "close_date": pa.array([close for _, _, close in deals], pa.date32()),
        }
    )
    expected = [
        str(n)
        for n, (status, created, close) in enumerate(deals)
        if created is not None and created <= on and not (status != "open" and close <= on)
    ]
    assert open_on(table, on)["opportunity_id"].to_pylist() == expected
