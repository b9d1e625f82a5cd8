"""A Salesforce Data Export (a ZIP of one CSV per object, or several of its CSVs) read safely:
Opportunity.csv with names for its IDs, and what User, OpportunityHistory, CurrencyType,
FiscalYearSettings / Period and ForecastingQuota add to it."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lib.load.errors import LoadError
from lib.load.files import RawTable, column_name, read_table, unique_headers
from lib.load.layouts import fold
from lib.load.mapping import Mapping, propose_mapping
from lib.load.stages import StageRule
from lib.load.values import detect_date_formats, install_value_macros
from lib.sql import sql_file

# The objects Closeboard reads, by their folded file name, in the order the Data page lists them.
OBJECT_FILES = {
    "opportunity": "Opportunity.csv",
    "user": "User.csv",
    "userrole": "UserRole.csv",
    "account": "Account.csv",
    "opportunityhistory": "OpportunityHistory.csv",
    "currencytype": "CurrencyType.csv",
    "fiscalyearsettings": "FiscalYearSettings.csv",
    "period": "Period.csv",
    "forecastingquota": "ForecastingQuota.csv",
}
# Salesforce writes an empty lookup (no account, no manager) as this ID rather than a blank.
EMPTY_LOOKUP = "000000000000000AAA"
# A weekly export holds a few dozen objects, and attachments beside them in big orgs; tens of
# thousands of entries are not an export.
MAX_MEMBERS = 20_000
# The CSVs Closeboard reads may inflate to this much in all: a million deals with every field
# is well under it, and the machine keeps the text in memory while it reads.
MAX_CSV_BYTES = 1_000_000_000
# As for .xlsx parts: text that inflates over 100 times its packed size is a bomb, not an
# export; members under a megabyte may compress as they like.
MAX_INFLATE_RATIO = 100
RATIO_GRACE_BYTES = 1_000_000
CHUNK_BYTES = 1 << 20
# The date every member of a bundle made here carries, so that the same files give the same
# bytes (and the same cache key) every time.
BUNDLE_DATE = (1980, 1, 1, 0, 0, 0)
# Resolved names are added to Opportunity.csv as columns of these names, which the Data page
# lists and the mapping editor offers.
OWNER_HEADER = "Owner (User.csv)"
MANAGER_HEADER = "Manager (User.csv)"
TEAM_HEADER = "Team (UserRole.csv)"
ACCOUNT_HEADER = "Account (Account.csv)"
# What the quotas of a Data Export are called where a quota file's name is shown.
QUOTA_FILE = "ForecastingQuota.csv"


@dataclass(frozen=True)
class ZipLimits:
    """How many entries an archive may list and how much its CSVs may inflate to, in all."""

    members: int = MAX_MEMBERS
    csv_bytes: int = MAX_CSV_BYTES


@dataclass(frozen=True)
class FileUsed:
    """One file of the export and what Closeboard took from it, in words."""

    file: str
    taken: str


@dataclass(frozen=True)
class DataExportFiles:
    """What the files beside Opportunity.csv add: names, history, rates, calendar and quotas.

    `history` has a row per OpportunityHistory change (opportunity_id, changed_at, changed_on,
    stage, amount, close_date, close_date_before, amount_before, stage_before, pushed, regressed,
    amount_changed), empty without the file; `rates` turn 1 unit of a currency into the corporate
    currency; `quotas` are ForecastingQuota's (owner, period start, amount) rows.
    """

    files_used: tuple[FileUsed, ...]
    # A line a file not used, and one line for every file that is not a CSV ("2 other files…").
    not_used: tuple[str, ...]
    not_used_count: int  # the files behind those lines
    owners_named: bool
    history_file: str | None
    history: pa.Table
    corporate_currency: str | None = None
    rates: dict[str, float] = field(default_factory=dict)
    fiscal_start_month: int | None = None
    fiscal_named_by_end: bool | None = None
    quotas: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class DataExport:
    """Opportunity.csv as read, with the resolved name columns, the mapping that uses them, and
    the other files."""

    opportunities: RawTable
    mapping: Mapping
    files: DataExportFiles


# --- Reading the archive safely ------------------------------------------------------------


def is_data_export(data: bytes, filename: str) -> bool:
    """A ZIP that is not an Excel workbook: a .zip name, or a name that does not say workbook
    on an archive without a workbook's [Content_Types].xml."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    if filename.lower().endswith(".zip"):
        return True
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return False  # the Excel reader says what is wrong with it
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "[Content_Types].xml" not in archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False  # the Excel reader says it is damaged


def object_of(member_name: str) -> str | None:
    """The object a member holds ("opportunityhistory"), from its file name alone; None for a
    file Closeboard does not read."""
    base = re.split(r"[\\/]", member_name)[-1]
    if not base.lower().endswith(".csv") or mac_resource_fork(member_name):
        return None
    key = fold(base[: -len(".csv")])
    return key if key in OBJECT_FILES else None


def mac_resource_fork(member_name: str) -> bool:
    """A file a Mac adds when it zips a folder: `__MACOSX/._Opportunity.csv` holds the Finder's
    metadata of Opportunity.csv (AppleDouble), not its rows, and nothing its owner put there."""
    parts = re.split(r"[\\/]", member_name)
    return "__MACOSX" in parts[:-1] or parts[-1].startswith("._")


def bundle(files: Sequence[tuple[str, bytes]]) -> tuple[str, bytes] | None:
    """Several uploaded files as one ZIP, when each is a ZIP or a CSV of an object Closeboard
    reads (Opportunity.csv, User.csv…); None when they are not parts of one Data Export."""
    names = [name for name, _ in files]
    if not all(name.lower().endswith(".zip") or object_of(name) for name in names):
        return None
    buffer = io.BytesIO()
    taken: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
        for name, data in files:
            base = re.split(r"[\\/]", name)[-1]
            if base in taken:  # the same file chosen twice
                continue
            taken.add(base)
            out.writestr(zipfile.ZipInfo(base, date_time=BUNDLE_DATE), data)
    label = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more files"
    return label, buffer.getvalue()


def _unsafe(name: str) -> bool:
    """A name that would leave the folder if it were ever used as a path (it never is)."""
    parts = re.split(r"[\\/]", name)
    return name.startswith(("/", "\\")) or ".." in parts or bool(re.match(r"[A-Za-z]:", name))


class _Budget:
    """Bytes still allowed to inflate, shared by an archive and the archives inside it."""

    def __init__(self, limit: int) -> None:
        self.limit, self.left = limit, limit

    def spend(self, size: int, what: str, filename: str) -> None:
        self.left -= size
        if self.left < 0:
            raise LoadError(
                f"{filename} would expand to more than {_size(self.limit)} when {what} is "
                "opened, far more than any export of deals; it was not opened."
            )


def _size(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:,.1f} MB"


@dataclass
class _Members:
    found: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    not_used: list[str] = field(default_factory=list)
    other_files: int = 0


def _read_members(
    data: bytes, filename: str, limits: ZipLimits, budget: _Budget, into: _Members, nested: bool
) -> None:
    """The CSVs of objects Closeboard reads, by object; member names are only ever labels."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > limits.members:
                raise LoadError(
                    f"{filename} lists {len(entries):,} files; a Data Export has far fewer "
                    f"(Closeboard opens at most {limits.members:,}). It was not opened."
                )
            wanted = []
            for entry in entries:
                name = entry.filename
                if entry.is_dir() or mac_resource_fork(name):
                    continue
                if _unsafe(name):
                    into.not_used.append(f"{name} (a name that points outside the archive)")
                elif object_of(name) or (not nested and name.lower().endswith(".zip")):
                    wanted.append(entry)
                elif name.lower().endswith(".csv"):
                    into.not_used.append(name)
                else:
                    into.other_files += 1
            _check_declared(wanted, filename, budget)
            for entry in wanted:
                content = _inflate(archive, entry, filename, budget)
                if object_of(entry.filename) is None:
                    _read_members(content, entry.filename, limits, budget, into, nested=True)
                elif object_of(entry.filename) in into.found:
                    into.not_used.append(f"{entry.filename} (a second copy)")
                else:
                    into.found[object_of(entry.filename)] = (entry.filename, content)
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError) as error:
        raise LoadError(
            f"{filename} is not a readable ZIP archive ({error}). Expected the ZIP of a "
            "Salesforce Data Export, or its CSV files."
        ) from error
    except (NotImplementedError, RuntimeError) as error:  # encrypted, or an unusual compression
        raise LoadError(
            f"{filename} could not be opened ({error}). Download the export again from "
            "Setup → Data Export, without a password."
        ) from error


def _check_declared(entries: list[zipfile.ZipInfo], filename: str, budget: _Budget) -> None:
    """The central directory's sizes, before anything is inflated."""
    for entry in entries:
        if (
            entry.file_size > RATIO_GRACE_BYTES
            and entry.file_size > MAX_INFLATE_RATIO * entry.compress_size
        ):
            raise LoadError(
                f"{entry.filename} in {filename} would expand from {_size(entry.compress_size)} "
                f"to {_size(entry.file_size)}, {entry.file_size // max(entry.compress_size, 1):,} "
                "times its packed size: no export compresses that well. It was not opened."
            )
    declared = sum(entry.file_size for entry in entries)
    if declared > budget.left:
        raise LoadError(
            f"{filename} would expand to {_size(declared)} when opened, more than the "
            f"{_size(budget.limit)} Closeboard reads; it was not opened."
        )


def _inflate(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo, filename: str, budget: _Budget
) -> bytes:
    """A member's bytes, counted as they inflate: a member that says it is small and is not is
    stopped, not trusted."""
    chunks, read = [], 0
    try:
        with archive.open(entry) as member:
            while chunk := member.read(CHUNK_BYTES):
                read += len(chunk)
                budget.spend(len(chunk), entry.filename, filename)
                if read > entry.file_size:
                    raise LoadError(
                        f"{entry.filename} in {filename} is larger than the archive says; "
                        "it was not opened."
                    )
                chunks.append(chunk)
    except zipfile.BadZipFile as error:
        raise LoadError(
            f"{entry.filename} in {filename} does not match what the archive says of it "
            f"({error}): it is damaged or not what it claims to be, and was not read."
        ) from error
    return b"".join(chunks)


# --- The objects -----------------------------------------------------------------------------


def read_data_export(data: bytes, filename: str, limits: ZipLimits | None = None) -> DataExport:
    """The export's Opportunity.csv and the files beside it; LoadError when it has none."""
    members = _Members()
    limits = limits or ZipLimits()
    _read_members(data, filename, limits, _Budget(limits.csv_bytes), members, nested=False)
    if "opportunity" not in members.found:
        found = (
            ", ".join(name for name, _ in members.found.values()) or "no CSV file Closeboard reads"
        )
        raise LoadError(
            f"{filename} has no Opportunity.csv (found: {found}). In Setup → Data Export, "
            "include Opportunity (and User, OpportunityHistory, CurrencyType for names, history "
            "and rates), then upload the ZIP as it comes."
        )
    names = {key: name for key, (name, _) in members.found.items()}
    tables, unreadable = {}, []
    for key, (name, content) in members.found.items():
        try:
            tables[key] = _without_empty_lookups(read_table(content, name))
        except LoadError as error:
            if key == "opportunity":
                raise
            # The deals still load without a file beside them that cannot be read.
            unreadable.append(f"{name} ({error})")
            del names[key]
    users = _users(tables.get("user"))
    roles = _id_to(tables.get("userrole"), "name")
    accounts = _id_to(tables.get("account"), "name")
    opportunities, resolved = _with_names(tables["opportunity"], users, roles, accounts)
    mapping = {**propose_mapping(opportunities.headers), **resolved}

    used = [FileUsed(names["opportunity"], _opportunities_taken(opportunities))]
    if users is not None:
        used.append(FileUsed(names["user"], f"names of {len(users):,} users, and their managers"))
    if roles is not None and users is not None:
        used.append(FileUsed(names["userrole"], f"{len(roles):,} role names, as teams"))
    if accounts is not None:
        used.append(FileUsed(names["account"], f"{len(accounts):,} account names"))
    history = _history(tables["opportunityhistory"]) if "opportunityhistory" in tables else None
    corporate, rates = _rates(tables.get("currencytype"))
    if rates:
        used.append(
            FileUsed(names["currencytype"], f"{len(rates)} conversion rates into {corporate}")
        )
    fiscal_key = next((key for key in ("fiscalyearsettings", "period") if key in tables), None)
    start_month, named_by_end = _fiscal_year(tables.get(fiscal_key))
    if start_month:
        used.append(FileUsed(names[fiscal_key], _fiscal_taken(start_month, named_by_end)))
    quotas = _quota_rows(tables.get("forecastingquota"), users)
    if quotas:
        used.append(FileUsed(names["forecastingquota"], f"{len(quotas):,} quotas"))
    unused = {
        "opportunityhistory": history is None,
        "currencytype": not rates,
        "fiscalyearsettings": fiscal_key != "fiscalyearsettings" or not start_month,
        "period": fiscal_key != "period" or not start_month,
        "forecastingquota": not quotas,
        "user": users is None,
        "userrole": roles is None or users is None,
        "account": accounts is None,
    }
    not_used = [*members.not_used, *unreadable]
    not_used += [f"{names[key]} (nothing Closeboard could use)" for key in names if unused.get(key)]
    not_used_count = len(not_used) + members.other_files
    if members.other_files:
        count = members.other_files
        not_used.append(f"{count:,} other file{'' if count == 1 else 's'} (not CSV), not opened")
    return DataExport(
        opportunities=opportunities,
        mapping=mapping,
        files=DataExportFiles(
            files_used=tuple(used),
            not_used=tuple(not_used),
            not_used_count=not_used_count,
            owners_named=users is not None,
            history_file=names["opportunityhistory"] if history is not None else None,
            history=history if history is not None else EMPTY_HISTORY,
            corporate_currency=corporate,
            rates=rates,
            fiscal_start_month=start_month,
            fiscal_named_by_end=named_by_end,
            quotas=quotas,
        ),
    )


def _without_empty_lookups(raw: RawTable) -> RawTable:
    """Every 000000000000000AAA cell blank: it means "none", and should show as nothing."""
    columns = [
        pc.if_else(pc.equal(column, EMPTY_LOOKUP), pa.scalar(None, pa.string()), column)
        for column in raw.table.columns
    ]
    return replace(raw, table=pa.table(columns, names=raw.table.column_names))


def _column(raw: RawTable, *spellings: str) -> list[str | None] | None:
    """The cells of the first column whose folded header is one of `spellings`."""
    folded = [fold(header) for header in raw.headers]
    for spelling in spellings:
        if spelling in folded:
            cells = raw.table[column_name(folded.index(spelling))].to_pylist()
            return [cell.strip() or None if cell else None for cell in cells]
    return None


@dataclass(frozen=True)
class _User:
    name: str
    manager_id: str | None
    role_id: str | None


def _users(raw: RawTable | None) -> dict[str, _User] | None:
    """User ID -> name (Name, else FirstName LastName, else Username), manager and role IDs."""
    if raw is None:
        return None
    ids = _column(raw, "id")
    if ids is None:
        return None
    rows = len(ids)
    blank = [None] * rows
    full_names = _column(raw, "name") or blank
    first, last = _column(raw, "firstname") or blank, _column(raw, "lastname") or blank
    usernames = _column(raw, "username") or blank
    managers, roles = _column(raw, "managerid") or blank, _column(raw, "userroleid") or blank
    users = {}
    for at, user_id in enumerate(ids):
        if user_id:
            name = full_names[at] or " ".join(filter(None, (first[at], last[at])))
            users[user_id] = _User(name or usernames[at] or user_id, managers[at], roles[at])
    return users


def _id_to(raw: RawTable | None, spelling: str) -> dict[str, str] | None:
    if raw is None:
        return None
    ids, values = _column(raw, "id"), _column(raw, spelling)
    if ids is None or values is None:
        return None
    return {i: v for i, v in zip(ids, values, strict=True) if i and v}


def _with_names(
    raw: RawTable,
    users: dict[str, _User] | None,
    roles: dict[str, str] | None,
    accounts: dict[str, str] | None,
) -> tuple[RawTable, Mapping]:
    """Opportunity.csv with a column of owner names (and manager, team, account names) beside
    the IDs, and the mapping of those fields to the new columns."""
    added: dict[str, tuple[str, list[str | None]]] = {}
    owner_ids = _column(raw, "ownerid")
    if users is not None and owner_ids is not None:
        owners = [users.get(i) if i else None for i in owner_ids]
        added["owner"] = (
            OWNER_HEADER,
            [u.name if u else i for u, i in zip(owners, owner_ids, strict=True)],
        )
        added["manager"] = (
            MANAGER_HEADER,
            [_name(users, u.manager_id) if u else None for u in owners],
        )
        if roles is not None:
            added["team"] = (TEAM_HEADER, [roles.get(u.role_id) if u else None for u in owners])
    account_ids = _column(raw, "accountid")
    if accounts is not None and account_ids is not None:
        added["account"] = (
            ACCOUNT_HEADER,
            [accounts.get(i, i) if i else None for i in account_ids],
        )
    if not added:
        return raw, {}
    headers = unique_headers([*raw.headers, *(header for header, _ in added.values())])
    table = raw.table
    mapping = {}
    for position, (key, (_, cells)) in enumerate(added.items(), start=len(raw.headers)):
        table = table.append_column(column_name(position), pa.array(cells, pa.string()))
        mapping[key] = headers[position]
    return replace(raw, headers=headers, table=table), mapping


def _name(users: dict[str, _User], user_id: str | None) -> str | None:
    if not user_id:
        return None
    user = users.get(user_id)
    return user.name if user else user_id


def _opportunities_taken(raw: RawTable) -> str:
    deleted = _column(raw, "isdeleted") or []
    left_out = sum(1 for cell in deleted if (cell or "").lower() in {"1", "true"})
    rows = f"{raw.rows_read:,} opportunit{'y' if raw.rows_read == 1 else 'ies'}"
    return rows + (f" ({left_out:,} deleted: left out)" if left_out else "")


EMPTY_HISTORY = pa.table(
    {
        "opportunity_id": pa.array([], pa.string()),
        "changed_at": pa.array([], pa.timestamp("us")),
        "changed_on": pa.array([], pa.date32()),
        "stage": pa.array([], pa.string()),
        "amount": pa.array([], pa.decimal128(18, 2)),
        "close_date": pa.array([], pa.date32()),
        "close_date_before": pa.array([], pa.date32()),
        "amount_before": pa.array([], pa.decimal128(18, 2)),
        "stage_before": pa.array([], pa.string()),
        "pushed": pa.array([], pa.bool_()),
        "regressed": pa.array([], pa.bool_()),
        "amount_changed": pa.array([], pa.bool_()),
        "probability": pa.array([], pa.float64()),
        "forecast_category": pa.array([], pa.string()),
    }
)
HISTORY_FIELDS = {
    "opportunity_id": ("opportunityid",),
    "created": ("createddate",),
    "stage": ("stagename",),
    "amount": ("amount",),
    "close_date": ("closedate",),
    "prev_close_date": ("prevclosedate",),
    "prev_amount": ("prevamount",),
    "probability": ("probability",),
    "forecast_category": ("forecastcategory",),
    "is_deleted": ("isdeleted",),
}


def _history(raw: RawTable) -> pa.Table | None:
    """OpportunityHistory's rows as typed columns (opportunity_id, changed_at, stage, amount,
    close_date, prev_close_date, prev_amount, probability, forecast_category, row), deleted rows
    left out; None when the file lacks the deal ID, the date of the change or the close date.
    Probability and forecast category are NULL when the file has no such column: a backtest
    then knows no past probabilities from it (lib/forecast.py)."""
    folded = [fold(header) for header in raw.headers]
    columns = {
        key: column_name(folded.index(spelling))
        for key, spellings in HISTORY_FIELDS.items()
        for spelling in spellings
        if spelling in folded
    }
    if not {"opportunity_id", "created", "close_date"} <= columns.keys():
        return None

    def cell(key: str) -> str:
        return f'"{columns[key]}"' if key in columns else "NULL::VARCHAR"

    con = duckdb.connect()
    try:
        install_value_macros(con)
        con.register("raw", raw.table)
        keys = [key for key in ("created", "close_date", "prev_close_date") if key in columns]
        readings = detect_date_formats(con, "raw", [columns[key] for key in keys], False)
        formats = {key: readings[columns[key]].format or "%Y-%m-%d" for key in keys}
        # Only our own column names (c0, c1…) go into this SQL; the formats are parameters.
        con.execute(
            f"""
            CREATE TABLE history AS
            SELECT
                clean_text({cell("opportunity_id")}) AS opportunity_id,
                coalesce(
                    TRY_CAST(regexp_replace(trim({cell("created")}),
                        '(\\.\\d+)?(Z|[+-]\\d{{2}}:?\\d{{2}})?$', '') AS TIMESTAMP),
                    CAST(parse_date({cell("created")}, $created) AS TIMESTAMP)
                ) AS changed_at,
                clean_text({cell("stage")}) AS stage,
                parse_amount({cell("amount")}, 'decimal point') AS amount,
                parse_date({cell("close_date")}, $close_date) AS close_date,
                parse_date({cell("prev_close_date")}, $prev_close_date) AS prev_close_date,
                parse_amount({cell("prev_amount")}, 'decimal point') AS prev_amount,
                -- Salesforce writes Probability in percent, ForecastCategory as an API value
                -- (BestCase, Forecast for Commit): read as the deals' own columns are.
                CAST(parse_probability({cell("probability")}, true) AS DOUBLE) AS probability,
                parse_forecast_category({cell("forecast_category")}) AS forecast_category,
                row_number() OVER () AS source_row
            FROM raw
            WHERE coalesce(lower(trim({cell("is_deleted")})), '') NOT IN ('1', 'true')
                AND clean_text({cell("opportunity_id")}) IS NOT NULL
            """,  # noqa: S608
            {
                "created": formats["created"],
                "close_date": formats["close_date"],
                "prev_close_date": formats.get("prev_close_date", "%Y-%m-%d"),
            },
        )
        return con.sql("SELECT * FROM history").to_arrow_table()
    finally:
        con.close()


def flag_history(history: pa.Table, rules: Sequence[StageRule]) -> pa.Table:
    """Each change of OpportunityHistory with its pushed / regressed / amount_changed flags; a
    stage's status and place come from the export's stage rules (stage names in the org's
    language are read by IsWon / IsClosed), a stage they do not know counts as open."""
    if history.num_rows == 0:
        return EMPTY_HISTORY
    con = duckdb.connect()
    try:
        con.register("history", history)
        con.register(
            "stage_order",
            pa.table(
                {
                    "stage": pa.array([r.stage for r in rules], pa.string()),
                    "status": pa.array([r.status for r in rules], pa.string()),
                    "position": pa.array(range(len(rules)), pa.int32()),
                }
            ),
        )
        return con.sql(sql_file("flagged_history")).to_arrow_table().cast(EMPTY_HISTORY.schema)
    finally:
        con.close()


def history_push_counts(history: pa.Table, deals: pa.Table, as_of: date) -> pa.Table:
    """Close-date pushes per loaded deal from OpportunityHistory changes made on or before
    `as_of`, in the columns of lib.changes.push_counts (opportunity_id, name, account, owner,
    status, pushes, first_close_date, close_date)."""
    con = duckdb.connect()
    try:
        con.register("history", history)
        con.register("deals", deals)
        return con.sql(sql_file("history_pushes"), params={"as_of": as_of}).to_arrow_table()
    finally:
        con.close()


def history_summary(history: pa.Table) -> str:
    """ "14 changes to 5 deals: 4 close-date pushes, 1 stage regression, 3 amount changes"."""
    changes, deals = history.num_rows, len(pc.unique(history["opportunity_id"]))
    counts = [
        (pc.sum(history[column]).as_py() or 0, word)
        for column, word in (
            ("pushed", "close-date push"),
            ("regressed", "stage regression"),
            ("amount_changed", "amount change"),
        )
    ]
    return f"{_plural(changes, 'change')} to {_plural(deals, 'deal')}: " + ", ".join(
        _plural(count, word) for count, word in counts
    )


def _plural(count: int, word: str) -> str:
    ending = "es" if word.endswith(("sh", "ch", "s")) else "s"
    return f"{count:,} {word}" + ("" if count == 1 else ending)


def with_history(files: DataExportFiles, rules: Sequence[StageRule]) -> DataExportFiles:
    """The files once the deals' stages are known: the history flagged, and described."""
    if files.history_file is None:
        return files
    history = flag_history(files.history, rules)
    used = (*files.files_used, FileUsed(files.history_file, history_summary(history)))
    return replace(files, history=history, files_used=used)


def _rates(raw: RawTable | None) -> tuple[str | None, dict[str, float]]:
    """The corporate currency and each currency's rate into it: CurrencyType's ConversionRate
    is how many units of the currency one unit of the corporate currency buys."""
    if raw is None:
        return None, {}
    codes, rates = _column(raw, "isocode"), _column(raw, "conversionrate")
    corporate_flags = _column(raw, "iscorporate") or [None] * len(codes or [])
    if codes is None or rates is None:
        return None, {}
    corporate = next(
        (c for c, flag in zip(codes, corporate_flags, strict=True)
         if c and (flag or "").lower() in {"1", "true"}),
        None,
    )  # fmt: skip
    into_corporate = {}
    for code, rate in zip(codes, rates, strict=True):
        try:
            units = float(rate or "")
        except ValueError:
            continue
        if code and units > 0:
            into_corporate[code.upper()] = 1 / units
    if corporate is None:
        return None, {}
    return corporate.upper(), into_corporate


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "")[:10])
    except ValueError:
        return None


def _fiscal_year(raw: RawTable | None) -> tuple[int | None, bool | None]:
    """The fiscal year's start month from the latest fiscal year (FiscalYearSettings, or the
    Year rows of Period), and whether the year is named by the year it ends."""
    if raw is None:
        return None, None
    starts, ends = _column(raw, "startdate"), _column(raw, "enddate")
    if starts is None:
        return None, None
    count = len(starts)
    names, kinds = _column(raw, "name") or [None] * count, _column(raw, "type") or [None] * count
    years = [
        (_day(start), _day(end), name)
        for start, end, name, kind in zip(starts, ends or [None] * count, names, kinds, strict=True)
        if _day(start) and (kind is None or kind.lower() == "year")
    ]
    if not years:
        return None, None
    start, end, name = max(years, key=lambda year: year[0])
    named_by_end = True
    if name and end and start.month != 1:
        named_by_end = name.strip() != str(start.year)
    return start.month, named_by_end


def _fiscal_taken(start_month: int, named_by_end: bool | None) -> str:
    month = date(2000, start_month, 1).strftime("%B")
    return f"fiscal year starting in {month}, named by the year it " + (
        "ends" if named_by_end in (True, None) else "begins"
    )


def _quota_rows(
    raw: RawTable | None, users: dict[str, _User] | None
) -> tuple[tuple[str, str, str], ...]:
    """ForecastingQuota as (owner, period start, amount) rows with owner names. Of several
    forecast types, the one with the most quotas is used: adding them would count each quota
    twice."""
    if raw is None:
        return ()
    owners, starts, amounts = (
        _column(raw, "quotaownerid"),
        _column(raw, "startdate"),
        _column(raw, "quotaamount"),
    )
    if owners is None or starts is None or amounts is None:
        return ()
    kinds = _column(raw, "forecastingtypeid") or [None] * len(owners)
    rows = [
        (owner, start, amount, kind)
        for owner, start, amount, kind in zip(owners, starts, amounts, kinds, strict=True)
        if owner and start and amount
    ]
    counts: dict[str | None, int] = {}
    for *_, kind in rows:
        counts[kind] = counts.get(kind, 0) + 1
    main_kind = max(counts, key=lambda kind: counts[kind], default=None)
    return tuple(
        (_name(users, owner) if users else owner, start, amount)
        for owner, start, amount, kind in rows
        if kind == main_kind
    )
