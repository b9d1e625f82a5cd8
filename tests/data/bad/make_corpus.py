"""Writes the bad files that are binary, large or exact to the byte, so that the repository keeps
only their recipe: `python tests/data/bad/make_corpus.py OUT_DIR`. The zip bombs in particular
are only ever made here, at test time, into a temporary folder."""

from __future__ import annotations

import io
import random
import struct
import sys
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

HEADER = "Opportunity Owner,Opportunity Name,Stage,Amount,Close Date"
DEALS = (
    "Ana Ruiz,Acme renewal,Prospecting,1000,2026-11-20",
    "Ben Ode,Globex,Closed Won,3000,2026-10-01",
)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
# A chunk of the zip bomb's one cell; the bomb repeats it 16 times (256 MiB).
BOMB_CHUNK = b"A" * (1 << 24)
BOMB_CHUNKS = 16


def csv_text(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def sheet_xml(rows: list[list[object]]) -> str:
    """A worksheet of inline strings and plain numbers, as Excel would write it."""

    def cell(ref: str, value: object) -> str:
        if isinstance(value, int | float):
            return f'<c r="{ref}"><v>{value}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'

    body = "".join(
        f'<row r="{r}">'
        + "".join(cell(f"{chr(65 + c)}{r}", value) for c, value in enumerate(row))
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    return f'<worksheet xmlns="{MAIN}"><sheetData>{body}</sheetData></worksheet>'


def workbook_parts(sheets: dict[str, str]) -> dict[str, str]:
    """The parts of an .xlsx holding these sheets (name -> worksheet XML), in order."""
    numbers = range(1, len(sheets) + 1)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{CONTENT}.worksheet+xml"/>'
        for n in numbers
    )
    return {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CONTENT}.sheet.main+xml"/>'
            f"{overrides}</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
            f'Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{OFFICE}"><sheets>'
            + "".join(
                f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>'
                for n, name in zip(numbers, sheets, strict=True)
            )
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{RELS}">'
            + "".join(
                f'<Relationship Id="rId{n}" Type="{OFFICE}/worksheet" '
                f'Target="worksheets/sheet{n}.xml"/>'
                for n in numbers
            )
            + "</Relationships>"
        ),
        **{
            f"xl/worksheets/sheet{n}.xml": xml
            for n, xml in zip(numbers, sheets.values(), strict=True)
        },
    }


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        parts = workbook_parts({name: sheet_xml(rows) for name, rows in sheets.items()})
        for name, xml in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + xml)
    return buffer.getvalue()


def raw_zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip written field by field: (name, deflated bytes, CRC, real size, size it declares),
    so that a part can claim a size it does not have."""
    local, central = bytearray(), bytearray()
    for name, packed, crc, _, declared in entries:
        encoded = name.encode()
        offset = len(local)
        local += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(packed), declared, len(encoded), 0
        )
        local += encoded + packed
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(packed), declared,
            len(encoded), 0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        central += encoded
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(local), 0
    )
    return bytes(local + central + end)


def zip_bomb(declare_real_size: bool) -> bytes:
    """A workbook whose one cell inflates to 256 MiB of "A" from about 260 KB: a real bomb, valid
    XML that a reader would hold in memory whole. With declare_real_size False its sheet claims
    to be 1,000 bytes, as a bomb made to slip past a size check would."""
    parts = workbook_parts({"Deals": "<placeholder/>"})
    entries = []
    for name, xml in parts.items():
        if name == "xl/worksheets/sheet1.xml":
            continue
        data = xml.encode()
        entries.append((name, zlib.compress(data, 9)[2:-4], zlib.crc32(data), len(data), len(data)))
    head = (
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
    ).encode()
    tail = (
        b'</t></is></c><c r="B1" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>'
    )
    # A full flush resets the compressor, so every chunk packs to the same bytes: pack it once.
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    chunk = packer.compress(BOMB_CHUNK) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(BOMB_CHUNKS):
        crc = zlib.crc32(BOMB_CHUNK, crc)
    size = len(head) + len(BOMB_CHUNK) * BOMB_CHUNKS + len(tail)
    packed = start + chunk * BOMB_CHUNKS + end
    sheet = ("xl/worksheets/sheet1.xml", packed, zlib.crc32(tail, crc), size, size)
    if not declare_real_size:
        sheet = (*sheet[:4], 1_000)
    return raw_zip([*entries, sheet])


def files() -> dict[str, bytes]:
    """Every generated bad file by name."""
    seeded = random.Random(20261120)
    wide_header = HEADER + "," + ",".join(f"Custom field {n}__c" for n in range(1, 9_996))
    wide_row = "Ana Ruiz,Acme renewal,Prospecting,1000,2026-11-20" + ",x" * 9_995
    return {
        "png-renamed.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08"
        + bytes(seeded.randrange(256) for _ in range(64)),
        "pdf-renamed.csv": b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        "xls-renamed.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        "random-bytes.csv": bytes(seeded.randrange(256) for _ in range(4_096)),
        "random-bytes-without-nul.csv": bytes(seeded.randrange(1, 256) for _ in range(4_096)),
        "utf16.csv": "\r\n".join(
            [
                HEADER.replace(",", "\t"),
                *(deal.replace(",", "\t") for deal in DEALS),
                "Émile Roux\tZürich\tClosed Won\t1500\t2026-10-15",
                "",
            ]
        ).encode("utf-16"),  # fmt: skip
        # A UTF-8 export with one row pasted in from a Windows-1252 file.
        "mixed-encodings.csv": csv_text(
            HEADER, "José Núñez,Café Société,Prospecting,1000,2026-11-20"
        )
        + "José Núñez,Crème Brûlée,Closed Won,2000,2026-10-01\n".encode("cp1252"),
        "cr-line-endings.csv": "\r".join([HEADER, *DEALS, ""]).encode(),
        "mixed-line-endings.csv": (HEADER + "\r\n" + DEALS[0] + "\n" + DEALS[1] + "\r").encode(),
        "nul-in-a-cell.csv": csv_text(HEADER, "Ana Ruiz,Ac\x00me,Prospecting,1000,2026-11-20"),
        "control-characters.csv": csv_text(
            HEADER,
            "Ana Ruiz,\x1b[31mred\x1b[0m and a bell\x07,Prospecting,1000,2026-11-20",
            "Ben\x08\x08\x08Eve,Form\x0cfeed,Closed Won,3000,2026-10-01",
        ),
        "wide-10000-columns.csv": csv_text(wide_header, wide_row),
        "cell-1mb.csv": csv_text(
            HEADER + ",Next Step",
            DEALS[0] + "," + "x" * 1_000_000,
            DEALS[1] + ",send contract",
        ),
        "line-over-2mb.csv": csv_text(
            HEADER, DEALS[0].replace("Acme renewal", "A" * 3_000_000), DEALS[1]
        ),
        "long-header.csv": csv_text(HEADER + "," + "Notes" * 1_200, DEALS[0] + ",x"),
        "several-sheets.xlsx": xlsx(
            {
                "Summary": [["Owner", "Total"], ["Ana Ruiz", 3000], ["Ben Ode", 3000]],
                "Deals": [
                    ["Opportunity Owner", "Opportunity Name", "Stage", "Amount", "Close Date"],
                    ["Ana Ruiz", "Acme renewal", "Prospecting", 1000, 46346],
                    ["Ana Ruiz", "Globex", "Negotiation/Review", 2000, 46347],
                    ["Ben Ode", "Initech", "Closed Won", 3000, 46296],
                ],
                "Notes": [["Exported from the CRM on 20 Nov 2026"]],
            }
        ),
        "damaged.xlsx": b"PK\x03\x04" + bytes(seeded.randrange(256) for _ in range(512)),
        "data-export-zip-renamed.xlsx": zip_of({"Opportunity.csv": csv_text(HEADER, *DEALS)}),
        "zip-bomb.xlsx": zip_bomb(declare_real_size=True),
        "zip-bomb-lying-about-its-size.xlsx": zip_bomb(declare_real_size=False),
    }


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files().items():
        (folder / name).write_bytes(data)
        written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1])):
        print(path)
