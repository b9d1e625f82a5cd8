"""A real PostgreSQL 15 for the tests: a throwaway cluster in a temporary folder.

Debian's `postgresql` package puts the server in /usr/lib/postgresql/15/bin (`.ci/run` installs
it). The server refuses to run as root, so under root every server command runs as the
`postgres` user the package creates, in a folder that user owns. It listens on a free port of
127.0.0.1 (and a unix socket in its own folder, never /var/run), trusts local connections (it
lives for one test run, holds nothing but test data) and is stopped and removed afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
USER = "closeboard"
MISSING = (
    "PostgreSQL 15 is not installed ({initdb} is missing): the store tests run against a real "
    "server. Install Debian's package: apt-get install -y --no-install-recommends postgresql "
    "(.ci/run does)."
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    """The command as the `postgres` user when we are root (the server refuses root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running server's URL (database `postgres`, superuser `closeboard`, no password)."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(MISSING.format(initdb=PG_BIN / "initdb"))
    folder = Path(tempfile.mkdtemp(prefix="closeboard-pg-"))
    if os.geteuid() == 0:
        server_user = pwd.getpwnam("postgres")
        os.chown(folder, server_user.pw_uid, server_user.pw_gid)
    folder.chmod(0o700)
    data, port = folder / "data", free_port()
    try:
        _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", USER, "--auth=trust",
              "--encoding=UTF8", "--no-sync", "--no-instructions"])  # fmt: skip
        options = (
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
              "-o", options, "-w", "-t", "60", "start"])  # fmt: skip
        try:
            yield f"postgresql://{USER}@127.0.0.1:{port}/postgres"
        finally:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def new_database(server_url: str, name: str) -> str:
    """A fresh, empty database on the server; its URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as con:
        con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(server_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as con:
        con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
