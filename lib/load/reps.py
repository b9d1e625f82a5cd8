"""A reps file (owner -> team, manager, and the rep's CRM user ID when it has one), or the Maven
sales_teams.csv, as a small table."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from lib.load.errors import LoadError
from lib.load.files import columns_found, read_table
from lib.load.layouts import fold

OWNER_SPELLINGS = ("owner", "rep", "salesagent", "salesrep", "name", "ownername", "user")
# A Salesforce Data Export names owners by user ID: a reps file with an ID beside the name gives
# them their names; a file with IDs alone names its reps by ID.
USER_ID_SPELLINGS = ("id", "userid", "ownerid", "salesforceid", "crmid")
TEAM_SPELLINGS = ("team", "salesteam", "regionaloffice", "region", "territory", "role")
MANAGER_SPELLINGS = ("manager", "salesmanager", "reportsto", "managername")


@dataclass(frozen=True)
class LoadedReps:
    """One row per rep: owner, team, manager, user_id (all but owner may be NULL)."""

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

    named, user_id = find(OWNER_SPELLINGS), find(USER_ID_SPELLINGS)
    owner, team, manager = named or user_id, find(TEAM_SPELLINGS), find(MANAGER_SPELLINGS)
    if named is None:
        user_id = None  # the IDs are the owners' names then
    if owner is None or (team is None and manager is None and user_id is None):
        raise LoadError(
            f"{filename} is not a reps file: expected an owner column with a team or manager "
            "column (owner, team, manager), or a user ID column beside the owner's name "
            f"(Id, Name). Columns found: {columns_found(raw.headers)}."
        )
    reps: dict[str, tuple[str | None, str | None, str | None]] = {}
    blank = 0
    for row in raw.table.to_pylist():
        name = (row[owner] or "").strip()
        if not name:
            blank += 1
            continue
        reps[name] = tuple(
            (row[column] or "").strip() or None if column else None
            for column in (team, manager, user_id)
        )
    return LoadedReps(
        reps=pa.table(
            {
                "owner": pa.array(list(reps), type=pa.string()),
                **{
                    column: pa.array([values[n] for values in reps.values()], type=pa.string())
                    for n, column in enumerate(("team", "manager", "user_id"))
                },
            }
        ),
        file_name=filename,
        rows_read=raw.rows_read,
        skipped_blank_owner=blank,
    )
