"""Workspaces: who may open which, where each keeps its DuckDB file, and what it keeps there.

A workspace is one embedded DuckDB file in the data folder (`CLOSEBOARD_DATA_DIR`, default
`data/` in the project folder). It holds the snapshot store's tables (lib.store) and, beside
them, the last data loaded (the files' bytes), saved choices (column mappings, stage edits,
rates, settings) and an audit list of who saved, deleted or loaded what, and when.

- Local mode (no sign-in): one workspace, the file `CLOSEBOARD_DB` names or
  `closeboard.duckdb` in the data folder, exactly where the snapshot store always was.
- Signed-in modes: each user has a personal workspace; team workspaces with named members (an
  e-mail address or a whole domain) are defined in the TOML file `CLOSEBOARD_WORKSPACES` names:

      [[team]]
      name = "EMEA sales"
      members = ["ana@acme.com", "ben@acme.com"]
      domains = ["emea.acme.com"]

  A workspace's file name is derived from its name: a slug of letters, digits and hyphens and a
  digest, so no name (`../x`, `/etc/passwd`, `C:\\x`) reaches outside `workspaces/` in the folder.

One app process owns a data folder (an exclusive lock on `.closeboard.lock`): a second one
pointed at the same folder is refused with a message naming the process that holds it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import threading
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from lib import store
from lib.errors import PlainError

CONFIG_VARIABLE = "CLOSEBOARD_WORKSPACES"
HEADER_VARIABLE = "CLOSEBOARD_TRUSTED_USER_HEADER"
LOCK_FILE = ".closeboard.lock"
WORKSPACES_FOLDER = "workspaces"
MAX_NAME_LENGTH = 80
# What a reasonable identity provider sends: one address, no spaces, a dot in the domain.
EMAIL = re.compile(r"[^@\s,;<>\"]{1,64}@[a-z0-9-]+(\.[a-z0-9-]+)+")
DOMAIN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")
KINDS = ("opportunities", "targets", "reps")

WORKSPACE_SQL = """
    CREATE TABLE IF NOT EXISTS workspace_info (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
    CREATE TABLE IF NOT EXISTS last_data (
        kind VARCHAR PRIMARY KEY,
        file_name VARCHAR NOT NULL,
        digest VARCHAR NOT NULL,
        data BLOB NOT NULL,
        loaded_at TIMESTAMP NOT NULL
    );
    CREATE TABLE IF NOT EXISTS saved_choices (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
    CREATE TABLE IF NOT EXISTS audit (
        done_at TIMESTAMP NOT NULL,
        who VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        what VARCHAR NOT NULL
    );
"""


class WorkspaceError(PlainError):
    """A workspace cannot be opened, configured or changed; the message says why."""


class FolderInUseError(WorkspaceError):
    """Another Closeboard process owns the data folder."""


@dataclass(frozen=True)
class Team:
    """A team workspace: its name, its members' addresses and the domains all of whose users
    belong."""

    name: str
    members: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    def admits(self, email: str) -> bool:
        return email in self.members or email.rpartition("@")[2] in self.domains


@dataclass(frozen=True)
class Workspace:
    """One workspace: `key` names its file, `label` is what the user sees, `team` is the name
    a URL may ask for (None for the personal and the local workspace)."""

    key: str
    label: str
    team: str | None = None


LOCAL = Workspace("local", "This computer")


@dataclass(frozen=True)
class StoredFile:
    """A file of the last data loaded, as kept in the workspace."""

    kind: str
    file_name: str
    digest: str
    data: bytes
    loaded_at: datetime


def normal_email(text: str | None, verified: bool = False) -> str | None:
    """The address with its ASCII letters in lower case, or None when `text` is not one address.

    Google IAP prefixes it with the issuer ("accounts.google.com:ana@acme.com"): the part after
    the last colon is the address. An address with a character beyond ASCII is taken only when
    the identity provider `verified` it, composed (NFC) and never folded; and never when one of
    those characters stands for an ASCII one: lower() and NFC make the Kelvin sign of
    "\u212aate@acme.com" the k of kate@acme.com, someone else.
    """
    if not text:
        return None
    email = text.strip().rpartition(":")[2].strip()
    if not email.isascii():
        if not verified or any(_stands_for_ascii(character) for character in email):
            return None
        email = unicodedata.normalize("NFC", email)
    email = "".join(character.lower() if character.isascii() else character for character in email)
    return email if len(email) <= 254 and EMAIL.fullmatch(email) else None


def _stands_for_ascii(character: str) -> bool:
    return not character.isascii() and unicodedata.normalize("NFC", character).isascii()


def personal(email: str) -> Workspace:
    return Workspace(f"user:{email}", f"My workspace ({email})")


def team_workspace(team: Team) -> Workspace:
    return Workspace(f"team:{team.name}", team.name, team.name)


def file_name(key: str) -> str:
    """A workspace's file name: a readable slug (letters, digits, hyphens only) and a digest of
    the whole key, so two keys never share a file and no key can name a path."""
    slug = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:40] or "workspace"
    return f"{slug}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.duckdb"


def workspace_path(workspace: Workspace, folder: Path) -> Path:
    """Where the workspace's file is: the local one where the snapshot store always was
    (`CLOSEBOARD_DB` when set), the others in the folder's `workspaces/`."""
    if workspace == LOCAL:
        return store.store_path(folder)
    return folder / WORKSPACES_FOLDER / file_name(workspace.key)


def read_teams(path: Path) -> tuple[Team, ...]:
    """The team workspaces of a config file (module docstring); WorkspaceError naming the file
    and what is wrong in it."""
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise WorkspaceError(
            f"The workspaces file {path} ({CONFIG_VARIABLE}) cannot be read: {error.strerror}."
        ) from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise WorkspaceError(f"The workspaces file {path} is not valid TOML: {error}.") from error
    unknown = set(config) - {"team"}
    if unknown:
        raise WorkspaceError(
            f"The workspaces file {path} has {', '.join(sorted(unknown))}; it holds only "
            '[[team]] tables, each with a name, members = ["a@b.com"] and domains = ["b.com"].'
        )
    teams = [_team(entry, path) for entry in config.get("team", [])]
    names = [team.name.casefold() for team in teams]
    if doubled := sorted({name for name in names if names.count(name) > 1}):
        raise WorkspaceError(f"The workspaces file {path} names {doubled[0]} twice.")
    return tuple(teams)


def _team(entry: object, path: Path) -> Team:
    if not isinstance(entry, dict) or set(entry) - {"name", "members", "domains"}:
        raise WorkspaceError(
            f"The workspaces file {path}: each [[team]] has a name, members and domains only."
        )
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise WorkspaceError(
            f"The workspaces file {path}: a team's name is text of 1 to {MAX_NAME_LENGTH} "
            f"characters, not {name!r}."
        )
    if any(not character.isprintable() for character in name):
        raise WorkspaceError(f"The workspaces file {path}: {name!r} has a control character.")
    members, domains = entry.get("members", []), entry.get("domains", [])
    if not isinstance(members, list) or not isinstance(domains, list):
        raise WorkspaceError(f"The workspaces file {path}: {name}'s members and domains are lists.")
    emails = {normal_email(member) if isinstance(member, str) else None for member in members}
    domain_names = {d.strip().lstrip("@").lower() if isinstance(d, str) else "" for d in domains}
    if None in emails:
        bad = next(m for m in members if not isinstance(m, str) or normal_email(m) is None)
        raise WorkspaceError(f"The workspaces file {path}: {bad!r} ({name}) is not an e-mail.")
    if bad_domain := next((d for d in domain_names if not DOMAIN.fullmatch(d)), None):
        raise WorkspaceError(
            f"The workspaces file {path}: {bad_domain!r} ({name}) is not a domain (acme.com)."
        )
    return Team(name.strip(), frozenset(emails), frozenset(domain_names))


def configured_teams(environ: Mapping[str, str] = os.environ) -> tuple[Team, ...]:
    """The teams of the file `CLOSEBOARD_WORKSPACES` names; none when it is not set."""
    path = environ.get(CONFIG_VARIABLE)
    return read_teams(Path(path)) if path else ()


def workspaces_of(email: str, teams: tuple[Team, ...]) -> list[Workspace]:
    """The workspaces a user may open: their own first, then their teams' by name."""
    mine = sorted((team for team in teams if team.admits(email)), key=lambda t: t.name.casefold())
    return [personal(email), *(team_workspace(team) for team in mine)]


def chosen_workspace(
    email: str, teams: tuple[Team, ...], requested: str | None
) -> tuple[Workspace, str | None]:
    """The workspace a user asked for (a team's name, None for their own) and, when they may
    not open it, their own instead with the reason it was refused."""
    allowed = workspaces_of(email, teams)
    if requested is None:
        return allowed[0], None
    for workspace in allowed:
        if workspace.team == requested:
            return workspace, None
    return allowed[0], (
        f"{requested} is not one of your workspaces, so you are in your own workspace. Ask an "
        "administrator to add you to a team's workspace."
    )


def identity_mode(environ: Mapping[str, str], login_configured: bool) -> str:
    """ "header" when a trusted header is named, "login" when an identity provider is
    configured, else "local"."""
    if environ.get(HEADER_VARIABLE):
        return "header"
    return "login" if login_configured else "local"


def user_from_headers(headers: Iterable[tuple[str, str]], header: str) -> str | None:
    """The signed-in user's address from the trusted header (any case); None without it, and
    None when it comes twice: which copy the proxy set could not be told, so neither is taken."""
    wanted = header.strip().lower()
    values = [value for name, value in headers if name.lower() == wanted]
    return normal_email(values[0]) if len(values) == 1 else None


# The folders this process owns, with their lock files kept open: a lock is held as long as
# its file stays open, and asking again from the same process must not lock it against itself.
_owned: dict[Path, int] = {}
# Browser sessions run their scripts on threads of one process: two first runs at once must not
# both open the lock file, for the second open would find the first one's lock and take its own
# process for another Closeboard.
_claiming = threading.Lock()


def claim_folder(folder: Path) -> None:
    """Makes this process the data folder's owner; FolderInUseError when another one is."""
    with _claiming:
        _claim(folder)


def _claim(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = folder.resolve()
    if key in _owned:
        return
    descriptor = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        owner = os.read(descriptor, 32).decode(errors="replace").strip() or "unknown"
        os.close(descriptor)
        raise FolderInUseError(
            f"The data folder {folder} is in use by another Closeboard (process {owner}). "
            "One app owns a data folder: stop the other one first, or give this one its own "
            f"folder with {store.DATA_DIR_VARIABLE}. Nothing was read or changed."
        ) from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, str(os.getpid()).encode())
    _owned[key] = descriptor


def release_folder(folder: Path) -> None:
    """Gives up the folder this process claimed (the command line, when done)."""
    descriptor = _owned.pop(folder.resolve(), None)
    if descriptor is not None:
        os.close(descriptor)


@contextmanager
def _open(path: Path, workspace: Workspace | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The workspace file's store connection (lib.store's checks), the workspace's own tables
    created, and its name written, when missing."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with store.open_store(path) as con:
        con.execute(WORKSPACE_SQL)
        if workspace is not None:
            con.execute(
                "INSERT OR IGNORE INTO workspace_info VALUES ('key', $key), ('label', $label)",
                {"key": workspace.key, "label": workspace.label},
            )
        yield con


def keep_file(path: Path, workspace: Workspace, stored: StoredFile, who: str) -> None:
    """Keeps a loaded file as the workspace's last of its kind, in place of the one before."""
    with _open(path, workspace) as con:
        con.execute(
            "INSERT OR REPLACE INTO last_data VALUES ($kind, $name, $digest, $data, $at)",
            {
                "kind": stored.kind,
                "name": stored.file_name,
                "digest": stored.digest,
                "data": stored.data,
                "at": stored.loaded_at,
            },
        )
        _record(con, who, "loaded", stored.file_name, stored.loaded_at)


def last_data(path: Path) -> dict[str, StoredFile]:
    """The workspace's last loaded files by kind; empty when it has none (or no file yet)."""
    if not path.exists():
        return {}
    with _open(path) as con:
        rows = con.execute(
            "SELECT kind, file_name, digest, data, loaded_at FROM last_data"
        ).fetchall()
    return {row[0]: StoredFile(*row[:3], bytes(row[3]), row[4]) for row in rows}


def forget_data(path: Path, who: str) -> None:
    """Deletes the workspace's last loaded files (its snapshots and choices stay)."""
    if not path.exists():
        return
    with _open(path) as con:
        names = [row[0] for row in con.execute("SELECT file_name FROM last_data").fetchall()]
        con.execute("DELETE FROM last_data")
        if names:
            _record(con, who, "forgot", ", ".join(sorted(names)), now())


def saved_choices(path: Path) -> dict[str, object]:
    """The workspace's saved choices (mappings, stage edits, rates, settings) by name."""
    if not path.exists():
        return {}
    with _open(path) as con:
        rows = con.execute("SELECT key, value FROM saved_choices").fetchall()
    return {key: json.loads(value) for key, value in rows}


def save_choices(path: Path, workspace: Workspace, choices: Mapping[str, object]) -> None:
    """Saves choices by name (JSON-ready values), each in place of the one before."""
    with _open(path, workspace) as con:
        con.executemany(
            "INSERT OR REPLACE INTO saved_choices VALUES (?, ?)",
            [(key, json.dumps(value, sort_keys=True)) for key, value in choices.items()],
        )


def record(path: Path, workspace: Workspace, who: str, action: str, what: str) -> None:
    """Adds a line to the workspace's audit list: who did what (saved, deleted…) to what."""
    with _open(path, workspace) as con:
        _record(con, who, action, what, now())


def _record(con: duckdb.DuckDBPyConnection, who: str, action: str, what: str, at) -> None:
    con.execute(
        "INSERT INTO audit VALUES ($at, $who, $action, $what)",
        {"at": at, "who": who, "action": action, "what": what},
    )


def audit_list(path: Path, limit: int = 200) -> list[dict[str, object]]:
    """The newest `limit` lines of the audit list, newest first."""
    if not path.exists():
        return []
    with _open(path) as con:
        rows = con.execute(
            "SELECT done_at, who, action, what FROM audit ORDER BY done_at DESC, rowid DESC "
            "LIMIT $limit",
            {"limit": limit},
        ).fetchall()
    return [
        {"at": at, "who": who, "action": action, "what": what} for at, who, action, what in rows
    ]


def now() -> datetime:
    """The time a line of the audit list or a kept file is stamped with, to the second."""
    return datetime.now().replace(microsecond=0)


def list_workspaces(folder: Path) -> list[dict[str, object]]:
    """Every workspace file in the folder: its name, file, snapshots and last data loaded."""
    files = sorted((folder / WORKSPACES_FOLDER).glob("*.duckdb"))
    if (folder / store.STORE_FILE).exists():
        files.insert(0, folder / store.STORE_FILE)
    listed = []
    for path in files:
        with _open(path) as con:
            info = dict(con.execute("SELECT key, value FROM workspace_info").fetchall())
            snapshots = con.execute("SELECT count(*) FROM snapshots").fetchone()[0]
            loaded = con.execute("SELECT max(loaded_at) FROM last_data").fetchone()[0]
        listed.append(
            {
                "name": info.get(
                    "label", LOCAL.label if path.name == store.STORE_FILE else path.stem
                ),
                "key": info.get("key", LOCAL.key if path.name == store.STORE_FILE else ""),
                "file": path.name,
                "snapshots": snapshots,
                "last_loaded": loaded,
                "bytes": path.stat().st_size,
            }
        )
    return listed


def delete_workspace(folder: Path, name: str) -> Path:
    """Deletes the workspace of that name (as listed, or its file name) with everything in it;
    WorkspaceError when there is none. The caller holds the folder (claim_folder)."""
    for entry in list_workspaces(folder):
        if name in (entry["name"], entry["key"], entry["file"]):
            path = (
                folder / store.STORE_FILE
                if entry["file"] == store.STORE_FILE
                else folder / WORKSPACES_FOLDER / str(entry["file"])
            )
            for file in (path, path.with_name(path.name + ".wal")):
                file.unlink(missing_ok=True)
            return path
    raise WorkspaceError(
        f"There is no workspace named {name} in {folder}. `workspaces list` shows their names."
    )
