"""A reps file (owner -> team, manager), or the Maven sales_teams.csv, as a small table."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from lib.load.errors import LoadError
from lib.load.files import columns_found, read_table
from lib.load.layouts import fold

OWNER_SPELLINGS = ("owner", "rep", "salesagent", "salesrep", "name", "ownername", "user", "id",
                   "userid", "ownerid")  # fmt: skip
TEAM_SPELLINGS = ("team", "salesteam", "regionaloffice", "region", "territory", "role")
MANAGER_SPELLINGS = ("manager", "salesmanager", "reportsto", "managername")


@dataclass(frozen=True)
class LoadedReps:
    """One row per rep: owner, team, manager (team or manager may be NULL)."""

    reps: pa.Table
    file_name: str
    rows_read: int
    skipped_blank_owner: int


def load_reps(data: bytes, filename: str) -> LoadedReps:
    raw = read_table(data, filename)
    folded = [fold(header) for header in raw.headers]

    def find(spellings: tuple[str, ...]) -> str | None:
        at = next((folded.index(s) for s in spellings if s in folded), None)
        return None if at is None else f"c{at}"

    owner, team, manager = find(OWNER_SPELLINGS), find(TEAM_SPELLINGS), find(MANAGER_SPELLINGS)
    if owner is None or (team is None and manager is None):
        raise LoadError(
            f"{filename} is not a reps file: expected an owner column with a team or manager "
            f"column (owner, team, manager). Columns found: {columns_found(raw.headers)}."
        )
    reps: dict[str, tuple[str | None, str | None]] = {}
    blank = 0
    for row in raw.table.to_pylist():
        name = (row[owner] or "").strip()
        if not name:
            blank += 1
            continue
        reps[name] = (
            (row[team] or "").strip() or None if team else None,
            (row[manager] or "").strip() or None if manager else None,
        )
    return LoadedReps(
        reps=pa.table(
            {
                "owner": pa.array(list(reps), type=pa.string()),
                "team": pa.array([t for t, _ in reps.values()], type=pa.string()),
                "manager": pa.array([m for _, m in reps.values()], type=pa.string()),
            }
        ),
        file_name=filename,
        rows_read=raw.rows_read,
        skipped_blank_owner=blank,
    )
