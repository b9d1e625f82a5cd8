"""Bad and hostile files: every file of tests/data/bad/ ends in a clear message or a counted
partial load within seconds, cells are kept as typed, and no page renders markup from a cell."""

from __future__ import annotations

import ast
import html
import importlib.util
import json
import re
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.coaching import coaching
from lib.db import open_database
from lib.format import markdown_text
from lib.load.errors import LoadError
from lib.load.opportunities import load_opportunities
from lib.load.reps import load_reps
from lib.load.targets import load_targets
from lib.one_on_one import one_on_one_sheet, sheet_html
from lib.pipeline_warnings import pipeline_warnings
from lib.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad"
CASES = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))
APP = str(ROOT / "app.py")
SETTINGS = Settings(as_of=date(2026, 11, 20))
# Each file is small: one that takes longer than this hangs.
SECONDS_PER_FILE = 20


def load_make_corpus():
    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_corpus = load_make_corpus()


@pytest.fixture(scope="module")
def corpus() -> dict[str, bytes]:
    """Every bad file by name: those kept in the repository and those made at test time."""
    kept = {path.name: path.read_bytes() for path in BAD.iterdir() if path.suffix != ".py"}
    del kept["expected.json"]
    return {**kept, **make_corpus.files()}


def case_id(case: dict) -> str:
    return case["file"] + (" mapped by hand" if "mapping" in case else "")


def as_text(values: list) -> list[str | None]:
    """Loaded values as the table in expected.json writes them: dates ISO, amounts "1000.00"."""
    return [None if value is None else str(value) for value in values]


def test_every_bad_file_has_an_expected_outcome(corpus):
    assert {case["file"] for case in CASES} == set(corpus)
    assert len(corpus) >= 30


def refused(case: dict, load) -> None:
    with pytest.raises(LoadError) as error:
        load()
    message = str(error.value)
    for words in case["error"]:
        assert words in message


@pytest.mark.timeout(SECONDS_PER_FILE)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_bad_file_ends_in_a_clear_message_or_a_counted_partial_load(case, corpus):
    data, name = corpus[case["file"]], case["file"]
    loader = case.get("loader", "opportunities")
    if loader == "targets":
        load = lambda: load_targets(data, name, SETTINGS)  # noqa: E731
    elif loader == "reps":
        load = lambda: load_reps(data, name)  # noqa: E731
    else:
        load = lambda: load_opportunities(data, name, case.get("mapping"))  # noqa: E731
    if "error" in case:
        refused(case, load)
    elif loader == "targets":
        loaded = load()
        report = loaded.report
        assert (report.rows_read, report.targets_loaded) == (
            case["rows_read"],
            case["targets_loaded"],
        )
        assert report.rejected == case["rejected"]
        for field, values in case["cells"].items():
            assert loaded.targets.column(field).to_pylist() == values
    elif loader == "reps":
        loaded = load()
        assert (loaded.rows_read, loaded.skipped_blank_owner) == (
            case["rows_read"],
            case["skipped_blank_owner"],
        )
        for field, values in case["cells"].items():
            assert loaded.reps.column(field).to_pylist() == values
    else:
        loaded = load()
        report = loaded.report
        assert (report.rows_read, report.rows_loaded) == (case["rows_read"], case["rows_loaded"])
        assert report.rejected == case["rejected"]
        assert {key: cells.count for key, cells in report.unreadable.items()} == case["unreadable"]
        placeholders = {key: cells.count for key, cells in report.placeholder_dates.items()}
        assert placeholders == case.get("placeholder_dates", {})
        for field, values in case.get("cells", {}).items():
            assert as_text(loaded.deals.column(field).to_pylist()) == values
        for field, lengths in case.get("cell_lengths", {}).items():
            assert [len(text) for text in loaded.deals.column(field).to_pylist()] == lengths
        for field, reading in case.get("date_readings", {}).items():
            read = report.date_readings[field]
            assert {"format": read.format, "ambiguous": read.ambiguous} == reading
        for attribute in ("encoding", "sheet", "headers"):
            if attribute in case:
                assert getattr(report, attribute) == (
                    tuple(case[attribute]) if attribute == "headers" else case[attribute]
                )


FILE_REFUSALS = [case for case in CASES if case.get("every_loader")]


@pytest.mark.timeout(SECONDS_PER_FILE)
@pytest.mark.parametrize("loader", ["targets", "reps"])
@pytest.mark.parametrize("case", FILE_REFUSALS, ids=case_id)
def test_a_file_no_loader_can_read_gets_the_same_message_as_a_quota_or_reps_file(
    case, loader, corpus
):
    data, name = corpus[case["file"]], case["file"]
    if loader == "targets":
        refused(case, lambda: load_targets(data, name, SETTINGS))
    else:
        refused(case, lambda: load_reps(data, name))


# --- No markup from a cell on any page --------------------------------------------------------

HOSTILE_FILES = ("markdown-names.csv", "html-script-names.csv", "formula-cells.csv")
# Late enough that every deal of those files is due: the close-today page shows them all.
AS_OF = date(2026, 11, 30)
# Proto fields Streamlit renders as Markdown (bodies of text and alerts, widget labels and help);
# a table's cells and a select box's options are plain text.
MARKDOWN_FIELDS = {"body", "label", "help"}


def hostile_texts(file_name: str) -> set[str]:
    """The file's loaded cells that Markdown would read as something other than text."""
    case = next(case for case in CASES if case["file"] == file_name and "mapping" not in case)
    cells = {text for values in case["cells"].values() for text in values if text}
    return {text for text in cells if markdown_text(text) != text}


def pages() -> list[str]:
    """Every page the app's navigation lists, so that a new page is checked too."""
    return re.findall(r'st\.Page\(\s*"(pages/[^"]+)"', Path(APP).read_text(encoding="utf-8"))


def markdown_strings(message) -> list[str]:
    """Every string in a Streamlit element's proto that is rendered as Markdown."""
    found = []
    for descriptor, value in message.ListFields():
        values = value if descriptor.is_repeated else [value]
        for item in values:
            if descriptor.type == descriptor.TYPE_MESSAGE:
                found += markdown_strings(item)
            elif descriptor.name in MARKDOWN_FIELDS and isinstance(item, str):
                found.append(item)
    return found


def rendered(at: AppTest) -> list[str]:
    """The Markdown of every element on the page and in the sidebar; no page may fail."""
    assert not at.exception, [e.value for e in at.exception]
    texts = []
    for node in [*at.main, *at.sidebar]:
        proto = getattr(node, "proto", None)
        if proto is not None:
            assert not getattr(proto, "allow_html", False), proto
            texts += markdown_strings(proto)
    return texts


def unescaped(cell: str, text: str) -> bool:
    """Whether the cell is in the text other than as markdown_text wrote it."""
    return cell in text.replace(markdown_text(cell), "")


def every_page(at: AppTest) -> list[str]:
    texts = []
    for page in pages():
        at.switch_page(page).run()
        texts += rendered(at)
        if page.endswith("close_today.py"):
            # Each rep's own list shows their deals' names, accounts and next steps in cards.
            for rep in at.selectbox(key="close_rep").options[1:]:
                at.selectbox(key="close_rep").set_value(rep).run()
                texts += rendered(at)
            at.selectbox(key="close_rep").set_value("Whole team").run()
    return texts


def uploaded(name: str, data: bytes) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["source"] = "My uploads"
    at.run()
    at.file_uploader(key="upload_opportunities").upload(name, data, "text/csv")
    at.run()
    at.date_input(key="as_of").set_value(AS_OF).run()
    return at


@pytest.mark.timeout(180)
@pytest.mark.parametrize("file_name", HOSTILE_FILES)
def test_cells_holding_markup_are_shown_as_typed_on_every_page(file_name, corpus):
    at = uploaded(file_name, corpus[file_name])
    texts = every_page(at)
    for hostile in hostile_texts(file_name):
        assert not [text for text in texts if unescaped(hostile, text)], hostile
    # The escaped text is there: the check above did look at the cells.
    shown = "\n".join(texts)
    assert any(markdown_text(hostile) in shown for hostile in hostile_texts(file_name))


@pytest.mark.timeout(180)
def test_a_file_named_as_a_link_is_shown_as_typed(corpus):
    # Bytes no other test uploads: the app caches what it read from a file by its content, and
    # the name comes with it.
    at = uploaded("[export](http://evil.example).csv", corpus["html-script-names.csv"] + b"\n")
    texts = every_page(at)
    name = "[export](http://evil.example).csv"
    assert not [text for text in texts if unescaped(name, text)]
    assert any(markdown_text(name) in text for text in texts)
    # Escaped once only: twice would show the backslashes.
    assert not [text for text in texts if markdown_text(markdown_text(name)) in text]


def test_a_sheet_named_as_a_link_is_shown_as_typed():
    sheet = "[Deals](http://evil.example)"
    workbook = make_corpus.xlsx(
        {sheet: [["Opportunity Owner", "Stage", "Amount", "Close Date"], ["Ana", "Won", 1, 46346]]}
    )
    at = uploaded("deals.xlsx", workbook)
    texts = rendered(at.switch_page("pages/data.py").run())
    assert not [text for text in texts if unescaped(sheet, text)]
    assert any(markdown_text(sheet) in text for text in texts)


@pytest.mark.parametrize("file_name", HOSTILE_FILES)
def test_every_reps_1_1_sheet_file_holds_the_cells_escaped(file_name, corpus):
    con = open_database(load_opportunities(corpus[file_name], file_name).deals)
    settings = Settings(as_of=AS_OF)
    report, found = coaching(con, settings), pipeline_warnings(con, settings, None)
    source = "<b>deals</b>.csv"
    markup = {cell for cell in hostile_texts(file_name) | {source} if cell != html.escape(cell)}
    for rep in report.reps:
        page = sheet_html(one_on_one_sheet(con, settings, rep.owner, report, found, None, source))
        assert html.escape(rep.owner) in page
        assert html.escape(source) in page
        assert not [cell for cell in markup if cell in page]


# What remark-gfm links in text even when every special character is escaped: web addresses
# after "http://", "https://" or "www.", and e-mail addresses.
GFM_AUTOLINKS = re.compile(
    r"(https?://|www(?=\.))[-.\w]+|[-.\w+]+@[-\w]+(\.[-\w]+)+", re.IGNORECASE
)


@pytest.mark.parametrize(
    "cell",
    ["http://evil.example", "HTTPS://evil.example/x", "www.evil.example", "WWW.Evil.Example",
     "ana@evil.example", "[click](http://evil.example)", "<http://evil.example>"],
)  # fmt: skip
def test_addresses_in_cells_are_not_links_once_escaped(cell):
    shown = re.sub(r"\\(.)", r"\1", markdown_text(cell))  # what Markdown leaves after escapes
    assert not GFM_AUTOLINKS.search(shown)
    assert shown.replace("\u2060", "") == cell


# --- Code that would render or export user text unescaped --------------------------------------

UI_FILES = [
    ROOT / "app.py",
    *sorted((ROOT / "pages").glob("*.py")),
    *sorted((ROOT / "ui").glob("*.py")),
]


def calls(path: Path):
    return [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)]


def is_constant_text(node: ast.expr) -> bool:
    """A string literal, or a module constant such as PRINT_CSS: nothing read from a file."""
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or (
        isinstance(node, ast.Name) and node.id.isupper()
    )


@pytest.mark.parametrize("path", UI_FILES, ids=lambda path: path.name)
def test_pages_pass_only_constant_text_to_html_rendering(path):
    for call in calls(path):
        renders_html = (isinstance(call.func, ast.Attribute) and call.func.attr == "html") or any(
            keyword.arg == "unsafe_allow_html" for keyword in call.keywords
        )
        if renders_html:
            assert call.args and is_constant_text(call.args[0]), (
                f"{path.name}:{call.lineno} renders HTML from something other than a constant"
            )


@pytest.mark.parametrize("path", UI_FILES, ids=lambda path: path.name)
def test_every_csv_download_goes_through_safe_csv(path):
    for call in calls(path):
        if not (isinstance(call.func, ast.Attribute) and call.func.attr == "download_button"):
            continue
        keywords = {keyword.arg: keyword.value for keyword in call.keywords}
        mime = keywords.get("mime")
        if isinstance(mime, ast.Constant) and mime.value == "text/csv":
            data = call.args[1] if len(call.args) > 1 else keywords["data"]
            # A large file is made only when its button is clicked: `lambda: safe_csv(…)`.
            if isinstance(data, ast.Lambda):
                data = data.body
            assert isinstance(data, ast.Call) and ast.unparse(data.func) == "safe_csv", (
                f"{path.name}:{call.lineno} offers a CSV that is not made by safe_csv"
            )


def test_only_lib_downloads_writes_csv():
    sources = [
        ROOT / "app.py",
        *(ROOT / "pages").glob("*.py"),
        *(ROOT / "ui").glob("*.py"),
        *(ROOT / "lib").rglob("*.py"),
    ]
    writers = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        if path != ROOT / "lib" / "downloads.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ".to_csv(" in line or "csv.writer(" in line or "csv.DictWriter(" in line
    ]
    assert writers == []


@pytest.mark.parametrize("path", UI_FILES, ids=lambda path: path.name)
def test_every_table_shows_a_missing_value_as_a_dash(path):
    # ui.tables.table (and long_table) draw every table with "–" for a missing value: a bare
    # st.dataframe would show the word None.
    drawn = [call for call in calls(path) if ast.unparse(call.func) == "st.dataframe"]
    allowed = path == ROOT / "ui" / "tables.py"
    assert allowed or not drawn, f"{path.name}:{drawn[0].lineno} draws a table with st.dataframe"
