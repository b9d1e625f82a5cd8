"""Closeboard's front door: page config, navigation, and the sidebar every page shares."""

import calendar

import streamlit as st

from lib.fiscal import parse_holidays
from lib.format import markdown_text
from lib.settings import Settings
from pages import shared, workspace

st.set_page_config(page_title="Closeboard", page_icon="📈", layout="wide")

# Nothing but a sign-in screen until someone is signed in (no widget: it may precede navigation).
active = workspace.signed_in_or_stop()

# st.navigation comes before any widget: Streamlit drops the first upload of a fresh server
# otherwise.
page = st.navigation(
    [
        st.Page(
            "pages/pacing.py",
            title="Are we on pace?",
            icon=":material/speed:",
            url_path="are-we-on-pace",
            default=True,
        ),
        st.Page(
            "pages/close_today.py",
            title="What can we close today?",
            icon=":material/handshake:",
            url_path="what-can-we-close-today",
        ),
        st.Page(
            "pages/pipeline_warnings.py",
            title="Who is about to drive off the cliff?",
            icon=":material/warning:",
            url_path="who-is-about-to-drive-off-the-cliff",
        ),
        st.Page(
            "pages/coaching.py",
            title="How do we coach each rep?",
            icon=":material/record_voice_over:",
            url_path="how-do-we-coach-each-rep",
        ),
        st.Page(
            "pages/qbr.py",
            title="What story do we tell at the QBR?",
            icon=":material/slideshow:",
            url_path="quarterly-business-review",
        ),
        st.Page(
            "pages/changes.py",
            title="What changed since last week?",
            icon=":material/history:",
            url_path="what-changed-since-last-week",
        ),
        st.Page(
            "pages/explore.py",
            title="Explore the data",
            icon=":material/query_stats:",
            url_path="explore-the-data",
        ),
        st.Page(
            "pages/data.py",
            title="What did we load?",
            icon=":material/table_view:",
            url_path="what-did-we-load",
        ),
    ]
)

workspace.open_workspace(active)

problems: list[str] = []
with st.sidebar:
    st.markdown("### Closeboard")
    source = st.radio("Data", ["Sample data", "My uploads"], horizontal=True, key="source")
    if source == "Sample data":
        opportunities = shared.sample_upload("opportunities")
        targets_upload = shared.sample_upload("targets")
        reps_upload = shared.sample_upload("reps")
    else:
        workspace.kept_files_line(active)
        files = {}
        for kind, label, types, options in (
            # Several files: the ZIPs of a Salesforce Data Export, or its CSVs.
            ("opportunities", "Opportunities export", ["csv", "xlsx", "txt", "zip"],
             {"accept_multiple_files": True,
              "help": "A CSV or Excel export, or a Salesforce Data Export: its ZIP as it "
              "comes, or Opportunity.csv with User.csv, OpportunityHistory.csv…"}),
            ("targets", "Quotas / budgets (optional)", ["csv", "xlsx", "txt"], {}),
            ("reps", "Reps and teams (optional)", ["csv", "xlsx", "txt"], {}),
            ("mapping", "Saved column mapping (optional)", ["json"], {}),
        ):  # fmt: skip
            files[kind] = st.file_uploader(label, type=types, key=f"upload_{kind}", **options)
            if kind == "opportunities":
                reading = st.container()  # the export's status line, right under its uploader
        opportunities, targets_upload, reps_upload = (
            workspace.upload_or_kept(kind, files[kind], problems)
            for kind in ("opportunities", "targets", "reps")
        )
        if files["mapping"] and opportunities:
            shared.apply_mapping_file(files["mapping"], opportunities, problems)

if opportunities is None:
    export = None
else:
    read_export = workspace.kept("opportunities", shared.load_export, active)
    if source == "Sample data":
        export = shared.keep_last_good("opportunities", opportunities, read_export, problems)
    else:
        with reading:
            export = shared.read_upload_with_status(opportunities, read_export, problems)

with st.sidebar:
    if export is not None:
        if st.session_state.get("as_of_for") is not export:
            st.session_state.as_of = shared.default_as_of(export)
            shared.follow_export_calendar(export)
            st.session_state.as_of_for = export
        as_of = st.date_input("As of", key="as_of", format="YYYY-MM-DD")
    fiscal_start = st.selectbox(
        "Fiscal year starts in",
        range(1, 13),
        format_func=lambda month: calendar.month_name[month],
        key="fiscal_start",
    )
    # A default set here, not by value=: a Data Export's fiscal year may have set it already.
    st.session_state.setdefault("fiscal_named_by_end", True)
    named_by_end = st.toggle("Name the fiscal year by the year it ends", key="fiscal_named_by_end")
    with st.expander("Settings", icon=":material/tune:"):
        holidays, not_dates = parse_holidays(
            st.text_area(
                "Holidays (not business days)",
                key="holidays",
                placeholder="2026-11-26\n2026-12-25",
                help="One date a line, YYYY-MM-DD. Pacing counts Monday to Friday less these.",
            )
        )
        if not_dates:
            st.warning("Not dates, ignored: " + markdown_text(", ".join(not_dates)))
        st.caption("Pipeline warnings")
        thresholds = shared.warning_threshold_inputs(Settings(as_of=shared.today()))
        query_timeout = st.number_input(
            "SQL box time limit (seconds)", 1, 600, 10, key="query_timeout_seconds",
            help="Explore's SQL box cancels a query that runs longer than this.",
        )  # fmt: skip

session_data = None
if export is not None:
    settings = Settings(
        as_of, fiscal_start, named_by_end, holidays=holidays,
        query_timeout_seconds=query_timeout, **thresholds,
    )  # fmt: skip
    targets = (
        shared.keep_last_good(
            "targets",
            targets_upload,
            workspace.kept("targets", lambda u: shared.read_targets(u, settings), active),
            problems,
        )
        if targets_upload
        else shared.export_quotas(export, settings)
    )
    reps = (
        shared.keep_last_good(
            "reps", reps_upload, workspace.kept("reps", shared.read_reps, active), problems
        )
        if reps_upload
        else None
    )
    rates = shared.rates_for(export)
    session_data = shared.SessionData(
        con=shared.session_connection(export, targets, reps, rates, settings.as_of),
        export=export,
        targets=targets,
        reps=reps,
        settings=settings,
        source="sample data" if source == "Sample data" else export.report.file_name,
    )
st.session_state.session_data = session_data

# Above whichever page is open: a file that could not be used, and what is shown instead.
for problem in problems:
    st.error(markdown_text(problem), icon=":material/error:")

try:
    page.run()
finally:
    # Also after a page stops or reruns the script: what it changed is kept either way.
    workspace.save_choices(active)
