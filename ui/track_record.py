"""Each rep's track record from the saved snapshots, for this browser session: worked out again
only when the deals, the settings it reads or the store change, not on every run of the page."""

from __future__ import annotations

from dataclasses import replace

from lib.follow_through import TrackRecord, read_history, track_record
from lib.session import Session
from lib.settings import Settings
from ui.session import kept_until_changed, store_state


def track_record_once(data: Session, settings: Settings) -> TrackRecord:
    """lib.follow_through's track record of the session's workspace store. Reading the
    snapshots and rebuilding each week's lists takes seconds: a rep picked or a word typed on
    the coaching page should not pay it again. The referral words are no part of it."""
    key = (replace(settings, referral_keywords=()), store_state(data.store))
    # The resolved deals change with the export, the reps and the rates: each a new object.
    return kept_until_changed(
        "track_record", data.resolved.deals, key, lambda: track_record(read_history(data), settings)
    )
