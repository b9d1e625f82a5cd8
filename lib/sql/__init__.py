"""The longer queries, one file a question (lib/sql/NAME.sql), each read once and kept."""

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent


@cache
def sql_file(name: str) -> str:
    """The text of lib/sql/NAME.sql: a query, or (values) the macros that read export cells."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
