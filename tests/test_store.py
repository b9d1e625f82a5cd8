"""The snapshot store: save, list, replace, delete, and that nothing corrupts it."""

import os
import signal
import subprocess
import sys
import threading
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from lib import store
from lib.load.opportunities import load_opportunities
from lib.store import (
    SnapshotExistsError,
    StoreError,
    close_date_history,
    delete_snapshot,
    last_open_stages,
    list_snapshots,
    read_snapshot,
    save_snapshot,
    snapshot_of_export,
    store_path,
)

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


def test_a_saved_snapshot_is_listed_with_its_date_deal_count_and_time(path):
    entry = save_snapshot(snapshot(WEEK_1), path)
    assert path.exists()  # the folder is made on the first save
    assert entry["as_of"] == WEEK_1
    assert entry["deals"] == 3
    assert isinstance(entry["saved_at"], datetime)
    save_snapshot(snapshot(WEEK_2), path)
    assert [(e["as_of"], e["deals"]) for e in list_snapshots(path)] == [(WEEK_1, 3), (WEEK_2, 3)]


def test_a_snapshot_keeps_only_the_canonical_columns_and_reads_back_exactly(path):
    saved = snapshot(WEEK_1)
    save_snapshot(saved, path)
    read = read_snapshot(WEEK_1, path)
    assert read.deals.column_names == CANONICAL  # no row numbers, no "Notes"
    assert read.deals.to_pylist() == saved.deals.select(CANONICAL).to_pylist()
    assert read.stage_order == saved.stage_order
    assert read.as_of == WEEK_1


def test_saving_a_date_that_has_a_snapshot_refuses_unless_told_to_replace(path):
    save_snapshot(snapshot(WEEK_1), path)
    one_deal = EXPORT.split("\n", 2)
    smaller = snapshot(WEEK_1, "\n".join(one_deal[:2]) + "\n")
    with pytest.raises(SnapshotExistsError, match="already a snapshot of Fri 13 Nov 2026"):
        save_snapshot(smaller, path)
    assert list_snapshots(path)[0]["deals"] == 3
    assert save_snapshot(smaller, path, replace=True)["deals"] == 1
    assert read_snapshot(WEEK_1, path).deals.num_rows == 1


def test_a_deleted_snapshot_is_gone_and_the_others_stay(path):
    save_snapshot(snapshot(WEEK_1), path)
    save_snapshot(snapshot(WEEK_2), path)
    delete_snapshot(WEEK_1, path)
    assert [e["as_of"] for e in list_snapshots(path)] == [WEEK_2]
    assert close_date_history(WEEK_2, path).column("as_of").to_pylist() == [WEEK_2] * 3
    with pytest.raises(StoreError, match="no snapshot of Fri 13 Nov 2026"):
        delete_snapshot(WEEK_1, path)
    with pytest.raises(StoreError, match="no snapshot of Fri 13 Nov 2026"):
        read_snapshot(WEEK_1, path)


def test_without_a_store_file_there_are_no_snapshots_and_no_file_is_made(path):
    assert list_snapshots(path) == []
    assert close_date_history(WEEK_2, path).num_rows == 0
    assert not path.parent.exists()


def test_history_stops_at_the_date_asked_for(path):
    save_snapshot(snapshot(WEEK_1), path)
    save_snapshot(snapshot(WEEK_2), path)
    history = close_date_history(WEEK_1, path)
    assert history.column_names == ["as_of", "opportunity_id", "name", "account", "owner",
                                    "status", "close_date"]  # fmt: skip
    assert set(history.column("as_of").to_pylist()) == {WEEK_1}


def test_an_unsaved_upload_takes_the_place_of_the_snapshot_of_its_date(path):
    save_snapshot(snapshot(WEEK_1), path)
    save_snapshot(snapshot(WEEK_2), path)
    upload = snapshot(WEEK_2, EXPORT.replace("A-1,Alpha", "A-9,Alpha"))
    history = close_date_history(WEEK_2, path, unsaved=[upload]).to_pylist()
    assert sorted((row["as_of"], row["opportunity_id"]) for row in history) == [
        (WEEK_1, "A-1"), (WEEK_1, "A-2"), (WEEK_1, "B-1"),
        (WEEK_2, "A-2"), (WEEK_2, "A-9"), (WEEK_2, "B-1"),
    ]  # fmt: skip
    # Without a store, the upload alone.
    alone = close_date_history(WEEK_2, path.with_name("none.duckdb"), unsaved=[upload])
    assert alone.num_rows == 3


def test_a_lost_deals_last_open_stage_comes_from_the_latest_snapshot_showing_it_open(path):
    save_snapshot(snapshot(WEEK_1), path)
    # By week 2 Alpha moved on to Negotiation and Charlie was lost.
    save_snapshot(
        snapshot(
            WEEK_2,
            EXPORT.replace(
                "Alpha,Acme,Ann,Prospecting", "Alpha,Acme,Ann,Negotiation/Review"
            ).replace("Charlie,Bolt,Bo,Negotiation/Review", "Charlie,Bolt,Bo,Closed Lost"),
        ),
        path,
    )
    assert last_open_stages(WEEK_2, path) == {
        "A-1": "Negotiation/Review",
        "B-1": "Negotiation/Review",
    }
    assert last_open_stages(WEEK_1, path) == {"A-1": "Prospecting", "B-1": "Negotiation/Review"}
    assert last_open_stages(WEEK_2, path.with_name("none.duckdb")) == {}


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


# A child process that saves a large snapshot. Its deals come from a stream that says when it is
# halfway and then slows down, so the test can kill the process in the middle of the insert.
SAVE_SCRIPT = """
import sys, time
from datetime import date
from pathlib import Path
import pyarrow as pa
from lib.load.opportunities import load_opportunities
from lib.store import Snapshot, SnapshotExistsError, save_snapshot

path, as_of, batches, pause = Path(sys.argv[1]), date.fromisoformat(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
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
    save_snapshot(Snapshot(as_of, deals, ("Prospecting",), "big.csv"), path)
except SnapshotExistsError:
    sys.exit(3)
print("saved", flush=True)
"""


def start_save(path: Path, as_of: date, batches: int, pause: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SAVE_SCRIPT, str(path), as_of.isoformat(), str(batches),
         str(pause)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.timeout(120)
def test_a_save_killed_halfway_leaves_every_earlier_snapshot_intact(path):
    save_snapshot(snapshot(WEEK_1), path)
    save_snapshot(snapshot(WEEK_2), path)
    before = [read_snapshot(day, path).deals for day in (WEEK_1, WEEK_2)]
    # 100 batches of 10,000 deals: a million-deal save, killed after half a million.
    saving = start_save(path, date(2026, 11, 27), batches=100, pause=0.5)
    assert saving.stdout.readline().strip() == "halfway", saving.stderr.read()
    os.kill(saving.pid, signal.SIGKILL)
    saving.wait()
    assert saving.returncode == -signal.SIGKILL

    assert [(e["as_of"], e["deals"]) for e in list_snapshots(path)] == [(WEEK_1, 3), (WEEK_2, 3)]
    assert [read_snapshot(day, path).deals for day in (WEEK_1, WEEK_2)] == before
    assert close_date_history(date(2026, 11, 27), path).num_rows == 6
    # The killed save left no lock and no half-written rows behind: the date saves afresh.
    assert save_snapshot(snapshot(date(2026, 11, 27)), path)["deals"] == 3


@pytest.mark.timeout(120)
def test_two_processes_saving_at_once_both_save_and_corrupt_nothing(path):
    save_snapshot(snapshot(WEEK_1), path)
    first = start_save(path, date(2026, 11, 27), batches=30, pause=0.02)
    second = start_save(path, date(2026, 12, 4), batches=30, pause=0.02)
    for saving in (first, second):
        out, err = saving.communicate(timeout=100)
        assert saving.returncode == 0, err
        assert out.splitlines()[-1] == "saved"
    assert [(e["as_of"], e["deals"]) for e in list_snapshots(path)] == [
        (WEEK_1, 3),
        (date(2026, 11, 27), 300_000),
        (date(2026, 12, 4), 300_000),
    ]
    assert read_snapshot(WEEK_1, path).deals.num_rows == 3
    amounts = read_snapshot(date(2026, 12, 4), path).deals.column("amount").to_pylist()
    assert sum(amounts) == 30 * sum(n for n in range(10_000)) + 300_000 * 0.25


@pytest.mark.timeout(120)
def test_two_processes_saving_the_same_date_save_it_once(path):
    first = start_save(path, WEEK_1, batches=10, pause=0.02)
    second = start_save(path, WEEK_1, batches=10, pause=0.02)
    codes = sorted(saving.wait(timeout=100) for saving in (first, second))
    assert codes == [0, 3]  # one saved, the other was told the date has a snapshot
    assert [(e["as_of"], e["deals"]) for e in list_snapshots(path)] == [(WEEK_1, 100_000)]


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
