"""The snapshot store: save, list, replace, delete, and that nothing corrupts it."""

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib import pgstore, store
from lib.load.opportunities import load_opportunities
from lib.pgstore import PostgresBackend
from lib.store import (
    Snapshot,
    SnapshotExistsError,
    StoreError,
    close_date_history,
    delete_snapshot,
    list_snapshots,
    save_snapshot,
    snapshot_of_export,
    store_path,
)
from lib.stores import DuckDBStore
from lib.workspaces import LOCAL, Workspace, personal

ROOT = Path(__file__).resolve().parent.parent
EXPORT = (
    "Opportunity ID,Opportunity Name,Account Name,Opportunity Owner,Stage,Amount,Close Date,"
    "Notes\n"
    "A-1,Alpha,Acme,Ann,Prospecting,100.25,2026-12-01,private remark\n"
    "A-2,Bravo,Acme,Ann,Closed Won,200.50,2026-11-02,\n"
    "B-1,Charlie,Bolt,Bo,Negotiation/Review,300.75,2026-12-15,\n"
)
WEEK_1, WEEK_2 = date(2026, 11, 13), date(2026, 11, 20)
# The canonical columns of PRODUCT.md: what a snapshot keeps of an export, and nothing else.
CANONICAL = ["opportunity_id", "name", "account", "owner", "stage", "status", "amount",
             "currency", "close_date", "created_date", "probability", "forecast_category",
             "lead_source", "type", "last_activity_date", "next_step", "team", "manager",
             "late_stage"]  # fmt: skip


def snapshot(as_of: date, text: str = EXPORT):
    return snapshot_of_export(load_opportunities(text.encode(), "deals.csv"), as_of)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "closeboard.duckdb"


# --- The same tests for both stores (tests/conftest.py: `kept` is an embedded file or a real
# --- PostgreSQL database) -----------------------------------------------------------------------


def test_a_saved_snapshot_is_listed_with_its_date_deal_count_and_time(kept):
    entry = kept.save_snapshot(snapshot(WEEK_1))
    assert entry["as_of"] == WEEK_1
    assert entry["deals"] == 3
    assert isinstance(entry["saved_at"], datetime)
    kept.save_snapshot(snapshot(WEEK_2))
    assert [(e["as_of"], e["deals"]) for e in kept.list_snapshots()] == [(WEEK_1, 3), (WEEK_2, 3)]


def test_a_snapshot_keeps_only_the_canonical_columns_and_reads_back_exactly(kept):
    saved = snapshot(WEEK_1)
    kept.save_snapshot(saved)
    read = kept.read_snapshot(WEEK_1)
    assert read.deals.column_names == CANONICAL  # no row numbers, no "Notes"
    assert read.deals.to_pylist() == saved.deals.select(CANONICAL).to_pylist()
    assert read.stage_order == saved.stage_order
    assert read.as_of == WEEK_1


def test_empty_text_nulls_quotes_and_new_lines_read_back_as_they_were_saved(kept):
    # COPY moves the PostgreSQL store's rows as CSV: "" and NULL, quotes, commas and new lines
    # in a name must come back as they went in.
    awkward = (
        "Opportunity ID,Opportunity Name,Account Name,Opportunity Owner,Stage,Amount,Close Date\n"
        'A-1,"Say ""hi"", then\nleave",,Ann,Prospecting,,2026-12-01\n'
        "A-2,\\N,NULL,Ann,Closed Won,0.01,2026-11-01\n"
    )
    loaded = snapshot(WEEK_1, awkward)
    # The loader reads an empty cell as NULL; a snapshot may still hold an empty text.
    column = loaded.deals.schema.get_field_index("next_step")
    deals = loaded.deals.set_column(column, "next_step", pa.array(["", None], pa.string()))
    saved = replace(loaded, deals=deals)
    kept.save_snapshot(saved)
    read = kept.read_snapshot(WEEK_1).deals.to_pylist()
    assert read == saved.deals.select(CANONICAL).to_pylist()
    assert read[0]["name"] == 'Say "hi", then\nleave'
    assert (read[1]["name"], read[1]["account"]) == ("\\N", "NULL")
    assert [row["next_step"] for row in read] == ["", None]
    assert [row["amount"] for row in read] == [None, Decimal("0.01")]


def test_saving_a_date_that_has_a_snapshot_refuses_unless_told_to_replace(kept):
    kept.save_snapshot(snapshot(WEEK_1))
    one_deal = EXPORT.split("\n", 2)
    smaller = snapshot(WEEK_1, "\n".join(one_deal[:2]) + "\n")
    with pytest.raises(SnapshotExistsError, match="already a snapshot of Fri 13 Nov 2026"):
        kept.save_snapshot(smaller)
    assert kept.list_snapshots()[0]["deals"] == 3
    assert kept.save_snapshot(smaller, replace=True)["deals"] == 1
    assert kept.read_snapshot(WEEK_1).deals.num_rows == 1


def test_a_deleted_snapshot_is_gone_and_the_others_stay(kept):
    kept.save_snapshot(snapshot(WEEK_1))
    kept.save_snapshot(snapshot(WEEK_2))
    kept.delete_snapshot(WEEK_1)
    assert [e["as_of"] for e in kept.list_snapshots()] == [WEEK_2]
    assert kept.close_date_history(WEEK_2).column("as_of").to_pylist() == [WEEK_2] * 3
    with pytest.raises(StoreError, match="no snapshot of Fri 13 Nov 2026"):
        kept.delete_snapshot(WEEK_1)
    with pytest.raises(StoreError, match="no snapshot of Fri 13 Nov 2026"):
        kept.read_snapshot(WEEK_1)


def test_a_new_store_has_no_snapshots(kept):
    assert kept.list_snapshots() == []
    assert kept.close_date_history(WEEK_2).num_rows == 0
    assert kept.last_open_stages(WEEK_2) == {}


def test_without_a_store_file_there_are_no_snapshots_and_no_file_is_made(path):
    assert list_snapshots(path) == []
    assert close_date_history(WEEK_2, path).num_rows == 0
    assert not path.parent.exists()


def test_history_stops_at_the_date_asked_for(kept):
    kept.save_snapshot(snapshot(WEEK_1))
    kept.save_snapshot(snapshot(WEEK_2))
    history = kept.close_date_history(WEEK_1)
    assert history.column_names == ["as_of", "opportunity_id", "name", "account", "owner",
                                    "status", "close_date"]  # fmt: skip
    assert set(history.column("as_of").to_pylist()) == {WEEK_1}
    assert history.schema == close_date_history(WEEK_1, Path("/nonexistent")).schema


def test_an_unsaved_upload_takes_the_place_of_the_snapshot_of_its_date(kept, backend):
    kept.save_snapshot(snapshot(WEEK_1))
    kept.save_snapshot(snapshot(WEEK_2))
    upload = snapshot(WEEK_2, EXPORT.replace("A-1,Alpha", "A-9,Alpha"))
    history = kept.close_date_history(WEEK_2, unsaved=[upload]).to_pylist()
    assert sorted((row["as_of"], row["opportunity_id"]) for row in history) == [
        (WEEK_1, "A-1"), (WEEK_1, "A-2"), (WEEK_1, "B-1"),
        (WEEK_2, "A-2"), (WEEK_2, "A-9"), (WEEK_2, "B-1"),
    ]  # fmt: skip
    # Without snapshots, the upload alone.
    alone = backend.workspace(personal("none@acme.com")).close_date_history(WEEK_2, [upload])
    assert alone.num_rows == 3


def test_a_lost_deals_last_open_stage_comes_from_the_latest_snapshot_showing_it_open(kept):
    kept.save_snapshot(snapshot(WEEK_1))
    # By week 2 Alpha moved on to Negotiation and Charlie was lost.
    kept.save_snapshot(
        snapshot(
            WEEK_2,
            EXPORT.replace(
                "Alpha,Acme,Ann,Prospecting", "Alpha,Acme,Ann,Negotiation/Review"
            ).replace("Charlie,Bolt,Bo,Negotiation/Review", "Charlie,Bolt,Bo,Closed Lost"),
        )
    )
    assert kept.last_open_stages(WEEK_2) == {
        "A-1": "Negotiation/Review",
        "B-1": "Negotiation/Review",
    }
    assert kept.last_open_stages(WEEK_1) == {"A-1": "Prospecting", "B-1": "Negotiation/Review"}


def test_a_save_or_delete_changes_the_stores_revision(kept):
    before = kept.revision()
    kept.save_snapshot(snapshot(WEEK_1))
    saved = kept.revision()
    assert saved != before
    kept.delete_snapshot(WEEK_1)
    assert kept.revision() != saved


# Names that would reach another workspace if they ever went into SQL or a path as text.
ODD_KEYS = ("user:ana@acme.com' OR '1'='1", "team:%", "team:_", "../closeboard", "local")


@pytest.mark.parametrize("other_key", ODD_KEYS)
def test_one_workspaces_snapshots_are_never_anothers(backend, other_key):
    ana = backend.workspace(personal("ana@acme.com"))
    other = backend.workspace(Workspace(other_key, other_key))
    ana.save_snapshot(snapshot(WEEK_1))
    ana.save_snapshot(snapshot(WEEK_2))
    other.save_snapshot(snapshot(WEEK_2, EXPORT.replace("A-1,Alpha", "Z-1,Alpha")))
    assert [e["as_of"] for e in other.list_snapshots()] == [WEEK_2]
    with pytest.raises(StoreError, match="no snapshot of Fri 13 Nov 2026"):
        other.read_snapshot(WEEK_1)
    with pytest.raises(StoreError, match="no snapshot of Fri 13 Nov 2026"):
        other.delete_snapshot(WEEK_1)
    assert sorted(other.close_date_history(WEEK_2)["opportunity_id"].to_pylist()) == [
        "A-2", "B-1", "Z-1"
    ]  # fmt: skip
    assert set(other.last_open_stages(WEEK_2)) == {"Z-1", "B-1"}
    other.delete_snapshot(WEEK_2)
    assert [e["as_of"] for e in ana.list_snapshots()] == [WEEK_1, WEEK_2]
    assert sorted(ana.read_snapshot(WEEK_2).deals["opportunity_id"].to_pylist()) == [
        "A-1", "A-2", "B-1"
    ]  # fmt: skip


def test_the_store_is_data_closeboard_duckdb_unless_closeboard_db_says(monkeypatch, tmp_path):
    monkeypatch.delenv("CLOSEBOARD_DB", raising=False)
    monkeypatch.delenv("CLOSEBOARD_DATA_DIR", raising=False)
    assert store_path() == ROOT / "data" / "closeboard.duckdb"
    monkeypatch.setenv("CLOSEBOARD_DB", str(tmp_path / "elsewhere.duckdb"))
    assert store_path() == tmp_path / "elsewhere.duckdb"


def test_the_store_records_its_schema_version(path):
    save_snapshot(snapshot(WEEK_1), path)
    con = duckdb.connect(str(path))
    try:
        assert con.execute("SELECT key, value FROM store_info").fetchall() == [
            ("schema_version", "1")
        ]
        con.execute("UPDATE store_info SET value = '2'")
    finally:
        con.close()
    with pytest.raises(StoreError, match=r"layout version 2; this Closeboard reads version 1"):
        list_snapshots(path)


def test_a_file_of_junk_bytes_gets_a_clear_message_and_is_never_overwritten(path):
    path.parent.mkdir(parents=True)
    junk = bytes(range(256)) * 64
    path.write_bytes(junk)
    for attempt in (
        lambda: list_snapshots(path),
        lambda: save_snapshot(snapshot(WEEK_1), path),
        lambda: save_snapshot(snapshot(WEEK_1), path, replace=True),
        lambda: delete_snapshot(WEEK_1, path),
        lambda: close_date_history(WEEK_1, path),
    ):
        with pytest.raises(StoreError) as raised:
            attempt()
        assert str(path) in str(raised.value)
        assert "not a valid DuckDB database file" in str(raised.value)
        assert "leaves the file as it is" in str(raised.value)
    assert path.read_bytes() == junk
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_another_programs_duckdb_file_is_refused_and_left_alone(path):
    path.parent.mkdir(parents=True)
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE invoices AS SELECT 1 AS id")
    con.close()
    with pytest.raises(StoreError, match="not a Closeboard snapshot store .it holds invoices."):
        save_snapshot(snapshot(WEEK_1), path)
    con = duckdb.connect(str(path))
    try:
        assert con.execute("SELECT table_name FROM duckdb_tables()").fetchall() == [("invoices",)]
    finally:
        con.close()


# A child process that saves a large snapshot into the store its first argument names (a file or
# a postgresql:// URL, as the CLI's --db). Its deals come from a stream that says when it is
# halfway and then slows down, so the test can kill the process in the middle of the insert (the
# COPY, in PostgreSQL).
SAVE_SCRIPT = """
import sys, time
from datetime import date
import pyarrow as pa
from lib.load.opportunities import load_opportunities
from lib.store import Snapshot, SnapshotExistsError
from lib.stores import cli_store

where, as_of, batches, pause = sys.argv[1], date.fromisoformat(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
text = "Opportunity ID,Opportunity Owner,Stage,Amount,Close Date\\n" + "".join(
    f"{as_of}-{n},Ann,Prospecting,{n}.25,2026-12-01\\n" for n in range(10_000)
)
batch = load_opportunities(text.encode(), "big.csv").deals.to_batches(max_chunksize=10_000)[0]

def stream():
    for number in range(batches):
        if number == batches // 2:
            print("halfway", flush=True)
        if number >= batches // 2:
            time.sleep(pause)
        yield batch

deals = pa.RecordBatchReader.from_batches(batch.schema, stream())
try:
    cli_store(where).save_snapshot(Snapshot(as_of, deals, ("Prospecting",), "big.csv"))
except SnapshotExistsError:
    sys.exit(3)
print("saved", flush=True)
"""


def where(kept) -> str:
    """The store as the child's command line names it."""
    return str(kept.path) if isinstance(kept, DuckDBStore) else kept.url


def start_save(kept, as_of: date, batches: int, pause: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SAVE_SCRIPT, where(kept), as_of.isoformat(), str(batches),
         str(pause)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.timeout(180)
def test_a_save_killed_halfway_leaves_every_earlier_snapshot_intact(kept):
    kept.save_snapshot(snapshot(WEEK_1))
    kept.save_snapshot(snapshot(WEEK_2))
    before = [kept.read_snapshot(day).deals for day in (WEEK_1, WEEK_2)]
    # 100 batches of 10,000 deals: a million-deal save, killed after half a million.
    saving = start_save(kept, date(2026, 11, 27), batches=100, pause=0.5)
    assert saving.stdout.readline().strip() == "halfway", saving.stderr.read()
    if not isinstance(kept, DuckDBStore):
        # A reader of the shared database while the save runs sees none of it (a DuckDB file
        # cannot be opened by a second process while the first one writes it).
        assert [e["as_of"] for e in kept.list_snapshots()] == [WEEK_1, WEEK_2]
        assert kept.close_date_history(date(2026, 11, 27)).num_rows == 6
    os.kill(saving.pid, signal.SIGKILL)
    saving.wait()
    assert saving.returncode == -signal.SIGKILL

    assert [(e["as_of"], e["deals"]) for e in kept.list_snapshots()] == [(WEEK_1, 3), (WEEK_2, 3)]
    assert [kept.read_snapshot(day).deals for day in (WEEK_1, WEEK_2)] == before
    assert kept.close_date_history(date(2026, 11, 27)).num_rows == 6
    # The killed save left no lock and no half-written rows behind: the date saves afresh.
    assert kept.save_snapshot(snapshot(date(2026, 11, 27)))["deals"] == 3
    assert kept.close_date_history(date(2026, 11, 27)).num_rows == 9


@pytest.mark.timeout(180)
def test_two_processes_saving_at_once_both_save_and_corrupt_nothing(kept):
    kept.save_snapshot(snapshot(WEEK_1))
    first = start_save(kept, date(2026, 11, 27), batches=30, pause=0.02)
    second = start_save(kept, date(2026, 12, 4), batches=30, pause=0.02)
    for saving in (first, second):
        out, err = saving.communicate(timeout=150)
        assert saving.returncode == 0, err
        assert out.splitlines()[-1] == "saved"
    assert [(e["as_of"], e["deals"]) for e in kept.list_snapshots()] == [
        (WEEK_1, 3),
        (date(2026, 11, 27), 300_000),
        (date(2026, 12, 4), 300_000),
    ]
    assert kept.read_snapshot(WEEK_1).deals.num_rows == 3
    amounts = kept.read_snapshot(date(2026, 12, 4)).deals.column("amount").to_pylist()
    assert sum(amounts) == 30 * sum(n for n in range(10_000)) + 300_000 * Decimal("0.25")


@pytest.mark.timeout(180)
def test_two_processes_saving_the_same_date_save_it_once(kept):
    first = start_save(kept, WEEK_1, batches=10, pause=0.05)
    second = start_save(kept, WEEK_1, batches=10, pause=0.05)
    results = [(saving.wait(timeout=150), saving.stderr.read()) for saving in (first, second)]
    # One saved, the other was told the date has a snapshot (the app's "replace?" question).
    assert sorted(code for code, _ in results) == [0, 3], results
    assert [(e["as_of"], e["deals"]) for e in kept.list_snapshots()] == [(WEEK_1, 100_000)]
    assert kept.read_snapshot(WEEK_1).deals.num_rows == 100_000


HOLD_SCRIPT = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""


@pytest.mark.timeout(60)
def test_a_store_locked_by_another_process_is_reported_busy_after_a_short_wait(path, monkeypatch):
    save_snapshot(snapshot(WEEK_1), path)
    monkeypatch.setattr(store, "LOCK_WAIT_SECONDS", 0.5)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(StoreError, match="is busy: another Closeboard is saving to it"):
            save_snapshot(snapshot(WEEK_2), path)
    finally:
        holder.kill()
        holder.wait()
    assert [e["as_of"] for e in list_snapshots(path)] == [WEEK_1]


@pytest.mark.timeout(60)
def test_sessions_reading_the_store_at_the_same_moment_all_get_their_answer(path):
    # Two sessions of one server open and close their own connections to the file; DuckDB
    # refuses one opened while another closes ("file handle conflict"), which is waited out.
    save_snapshot(snapshot(WEEK_1), path)
    failures: list[Exception] = []

    def read_often() -> None:
        for _ in range(300):
            try:
                with store.open_store(path) as con:
                    assert con.execute("SELECT count(*) FROM snapshots").fetchone() == (1,)
            except Exception as error:  # noqa: BLE001 - every failure is the test's finding
                failures.append(error)

    readers = [threading.Thread(target=read_often) for _ in range(6)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert failures == []


def test_a_file_handle_conflict_is_waited_out_like_a_lock(path, monkeypatch):
    save_snapshot(snapshot(WEEK_1), path)
    connect, refused = duckdb.connect, []

    def conflicting_once(database: str, *args, **kwargs):
        if not refused:
            refused.append(database)
            raise duckdb.IOException(
                'Resource In Use Error: Unique file handle conflict: Cannot attach "closeboard"'
            )
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", conflicting_once)
    assert [e["as_of"] for e in list_snapshots(path)] == [WEEK_1]
    assert refused == [str(path)]


# --- Private and damaged files ----------------------------------------------------------------


def test_a_new_store_and_its_folder_are_readable_by_their_owner_alone(tmp_path: Path):
    path = tmp_path / "new-folder" / "store.duckdb"
    save_snapshot(snapshot(WEEK_1), path)
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_existing_store_readable_by_others_is_made_private_when_opened(tmp_path: Path):
    path = tmp_path / "store.duckdb"
    save_snapshot(snapshot(WEEK_1), path)
    path.chmod(0o644)
    list_snapshots(path)
    assert path.stat().st_mode & 0o777 == 0o600


def damaged(path: Path) -> Path:
    """The store with bytes flipped all through its data blocks (its first 12 KB are headers)."""
    data = bytearray(path.read_bytes())
    for position in range(12_288 + 100, len(data), 997):
        data[position] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_store_is_said_to_be_damaged_at_once_not_busy(tmp_path: Path, monkeypatch):
    path = tmp_path / "store.duckdb"
    save_snapshot(snapshot(WEEK_1), path)
    damaged(path)

    # A lock conflict is waited out, a moment at a time: a damaged file must not be taken for one.
    def no_waiting(seconds: float) -> None:
        raise AssertionError("waited for a lock that no one holds")

    monkeypatch.setattr(store.time, "sleep", no_waiting)
    with pytest.raises(
        store.StoreDamagedError, match="is damaged: Corrupt database file"
    ) as raised:
        list_snapshots(path)
    assert "busy" not in str(raised.value)


def test_a_damaged_store_set_aside_is_kept_beside_and_a_new_one_starts(tmp_path: Path):
    path = tmp_path / "store.duckdb"
    save_snapshot(snapshot(WEEK_1), path)
    bytes_before = damaged(path).read_bytes()
    kept = store.set_aside(path, datetime(2026, 12, 6, 13, 5, 0))
    assert kept == tmp_path / "store.damaged-20261206-130500.duckdb"
    assert kept.read_bytes() == bytes_before
    assert list_snapshots(path) == []
    save_snapshot(snapshot(WEEK_2), path)
    assert [entry["as_of"] for entry in list_snapshots(path)] == [WEEK_2]


# --- The PostgreSQL store's layout ---------------------------------------------------------


def test_the_database_layout_is_created_at_start_and_versioned(postgres_url):
    import psycopg

    PostgresBackend(postgres_url).claim()
    with psycopg.connect(postgres_url) as con:
        assert con.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
        tables = {row[0] for row in con.execute("SELECT tablename FROM pg_tables "
                                                "WHERE schemaname = 'public'")}  # fmt: skip
    assert {"workspaces", "snapshots", "snapshot_deals", "last_data", "audit"} <= tables


def test_a_database_laid_out_by_a_newer_closeboard_is_refused_and_left_alone(
    postgres_url, monkeypatch
):
    import psycopg

    kept = PostgresBackend(postgres_url).workspace(LOCAL)
    kept.save_snapshot(snapshot(WEEK_1))
    with psycopg.connect(postgres_url) as con:
        con.execute("UPDATE schema_version SET version = 2")
    monkeypatch.setattr(pgstore, "_ready", set())  # as a process started afresh
    with pytest.raises(StoreError, match="has layout version 2; this Closeboard reads version 1"):
        kept.list_snapshots()
    with psycopg.connect(postgres_url) as con:
        assert con.execute("SELECT count(*) FROM snapshots").fetchone() == (1,)
        assert con.execute("SELECT version FROM schema_version").fetchone() == (2,)


def test_a_database_that_cannot_be_reached_is_named_without_its_password(postgres_url):
    url = "postgresql://ana:s3cret@127.0.0.1:1/closeboard"
    with pytest.raises(StoreError) as raised:
        PostgresBackend(url).workspace(LOCAL).list_snapshots()
    assert str(raised.value).startswith(
        "The PostgreSQL store closeboard on 127.0.0.1:1 cannot be reached:"
    )
    assert "s3cret" not in str(raised.value)


# Any text a cell can hold after loading: the loader leaves NUL out of a cell (docs/deployment.md)
# and UTF-8 has no surrogates.
CELL_TEXT = st.one_of(
    st.none(), st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.lists(CELL_TEXT, min_size=1, max_size=4), owner=CELL_TEXT)
def test_any_text_reads_back_as_it_was_saved(kept, names, owner):
    deals = snapshot(WEEK_1).deals.slice(0, 1)
    deals = pa.concat_tables([deals] * len(names))
    for column, values in (("name", names), ("owner", [owner] * len(names))):
        index = deals.schema.get_field_index(column)
        deals = deals.set_column(index, column, pa.array(values, pa.string()))
    saved = Snapshot(WEEK_1, deals, ("Prospecting",), "deals.csv")
    kept.save_snapshot(saved, replace=True)
    read = kept.read_snapshot(WEEK_1).deals
    assert sorted(map(repr, read.select(["name", "owner"]).to_pylist())) == sorted(
        map(repr, deals.select(["name", "owner"]).to_pylist())
    )


@pytest.mark.timeout(180)
def test_a_save_waiting_on_another_of_the_same_date_is_asked_to_replace_it(postgres_url):
    # The second save starts while the first one is halfway through its COPY, so it waits on
    # the first one's snapshot row; once the first commits, it is refused, and nothing of it
    # is kept.
    import psycopg

    kept = PostgresBackend(postgres_url).workspace(LOCAL)
    first = start_save(kept, WEEK_1, batches=40, pause=0.3)
    assert first.stdout.readline().strip() == "halfway", first.stderr.read()
    second = start_save(kept, WEEK_1, batches=2, pause=0)
    with psycopg.connect(postgres_url, autocommit=True) as con:
        for _ in range(300):  # the second save waits on a lock, while the first one runs
            waiting = con.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()[0]
            if waiting or first.poll() is not None:
                break
            time.sleep(0.05)
    assert (waiting, first.poll()) == (1, None)
    assert first.wait(timeout=150) == 0, first.stderr.read()
    assert second.wait(timeout=150) == 3, second.stderr.read()
    assert [(e["as_of"], e["deals"]) for e in kept.list_snapshots()] == [(WEEK_1, 400_000)]


def test_without_the_server_installed_the_fixture_fails_plainly_and_never_skips(
    tmp_path, monkeypatch
):
    from tests import pg

    monkeypatch.setattr(pg, "PG_BIN", tmp_path / "no-postgresql")
    with (
        pytest.raises(RuntimeError, match="PostgreSQL 15 is not installed") as raised,
        pg.postgres_server(),
    ):
        pass
    assert str(tmp_path / "no-postgresql" / "initdb") in str(raised.value)
    assert "apt-get install -y --no-install-recommends postgresql" in str(raised.value)
