"""Closeboard from the command line: `python -m lib.cli inspect FILE --json`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from lib.db import open_database
from lib.load.errors import LoadError
from lib.load.mapping import mapping_from_json
from lib.load.opportunities import LoadedExport, load_opportunities
from lib.overview import export_summary


def inspect_report(loaded: LoadedExport) -> dict[str, object]:
    """What the Data page shows about a load, as JSON-ready values (dates ISO, shares 0–1)."""
    report = loaded.report
    summary = export_summary(open_database(loaded.deals))
    return {
        "file": report.file_name,
        "format": report.layout,
        "file_kind": report.file_kind,
        "encoding": report.encoding,
        "delimiter": report.delimiter,
        "sheet": report.sheet,
        "footer_lines": report.footer_lines,
        "mapping": report.mapping,
        "unmapped_columns": list(report.unmapped_headers),
        "date_formats": {
            key: {"format": r.label, "ambiguous": r.ambiguous, "note": r.reason or None}
            for key, r in report.date_readings.items()
        },
        "decimal_comma": report.decimal_comma,
        "rows_read": report.rows_read,
        "rows_loaded": report.rows_loaded,
        "rows_rejected": report.rows_rejected,
        "rejected": report.rejected,
        "duplicate_ids": list(report.duplicate_ids),
        "unreadable": {
            key: {"count": cells.count, "examples": list(cells.examples)}
            for key, cells in report.unreadable.items()
        },
        "stages": [
            {
                "stage": r.stage,
                "status": r.status,
                "probability": r.probability,
                "probability_from": r.source,
                "deals": r.deals,
            }
            for r in report.stage_rules
        ],  # fmt: skip
        "currencies": list(report.currencies),
        **{
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in summary.items()
        },
    }


def _inspect(args: argparse.Namespace) -> int:
    mapping = mapping_from_json(Path(args.mapping).read_bytes()) if args.mapping else None
    loaded = load_opportunities(Path(args.file).read_bytes(), Path(args.file).name, mapping)
    report = inspect_report(loaded)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        for key in ("format", "rows_read", "rows_loaded", "rows_rejected", "deals_open",
                    "deals_won", "deals_lost", "amount_open", "amount_won", "owners"):  # fmt: skip
            print(f"{key:>15}: {report[key]}")
        for reason, count in report["rejected"].items():
            print(f"{'rejected':>15}: {count} × {reason}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="what Closeboard understands of an export")
    inspect.add_argument("file", help="an opportunities export (CSV or XLSX)")
    inspect.add_argument("--mapping", help="a column mapping saved from the Data page (JSON)")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    inspect.set_defaults(run=_inspect)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except LoadError as error:
        print(str(error), file=sys.stderr)
        return 2
    except OSError as error:
        print(f"Could not read {error.filename}: {error.strerror}.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
