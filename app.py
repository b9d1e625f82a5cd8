"""Closeboard's front door: page config, navigation, and the sidebar every page shares."""

import streamlit as st

from lib.format import markdown_text
from ui import notices, stage_questions, workspace
from ui.sidebar import sidebar

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
sidebar(active, problems)

# Above whichever page is open: a file that could not be used, and what is shown instead.
for problem in problems:
    st.error(markdown_text(problem), icon=":material/error:")
stage_questions.waiting_notice(page)
notices.user_id_owners_notice()
notices.currencies_notice()

try:
    page.run()
finally:
    # Also after a page stops or reruns the script: what it changed is kept either way.
    workspace.save_choices(active)
