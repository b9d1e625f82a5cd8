"""The files a session reads: uploads and the bundled sample, each read once per content and
kept across sessions (an uploaded file's bytes give the same immutable result to anyone who
uploads the very same file), and a failed upload never replacing data that loaded."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from lib.format import file_size, markdown_text
from lib.load.errors import LoadError
from lib.load.mapping import (
    Mapping,
    MissingFieldsError,
    apply_saved_mapping,
    mapping_from_json,
    stage_edits_from_json,
)
from lib.load.opportunities import LoadedExport, load_opportunities
from lib.load.reps import LoadedReps, load_reps
from lib.load.targets import LoadedTargets, load_targets
from lib.load.zip_export import bundle
from lib.settings import Settings
from ui.choices import headers_key, remembered

LOG = logging.getLogger(__name__)
KIND_NAMES = {"opportunities": "export", "targets": "quota file", "reps": "reps file"}
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
SAMPLE_FILES = {
    "opportunities": SAMPLE_DIR / "opportunities.csv",
    "targets": SAMPLE_DIR / "quotas.csv",
    "reps": SAMPLE_DIR / "reps.csv",
}


@dataclass(frozen=True)
class Upload:
    """A file's name and bytes, with a digest that keys every cache of what is read from it."""

    name: str
    data: bytes
    digest: str

    @classmethod
    def of(cls, name: str, data: bytes) -> Upload:
        return cls(name, data, hashlib.sha256(data).hexdigest())


# Parsing is cached by content across sessions: the same bytes give the same immutable result,
# so another session can only ever get it back by uploading the very same file. The file name is
# part of the key because the result names its file: the same bytes uploaded as another name
# must not show the first uploader's file name.
@st.cache_resource(max_entries=8, show_spinner="Reading the export…")
def _cached_export(digest: str, name: str, _upload: Upload, mapping_json: str, edits_json: str):
    mapping = json.loads(mapping_json) or None
    return load_opportunities(_upload.data, _upload.name, mapping, json.loads(edits_json))


@st.cache_resource(max_entries=8, show_spinner=False)
def _cached_targets(
    digest: str, name: str, _upload: Upload, fiscal_start: int, named_by_end: bool, as_of
):
    settings = Settings(as_of, fiscal_start, named_by_end)
    return load_targets(_upload.data, _upload.name, settings)


@st.cache_resource(max_entries=8, show_spinner=False)
def _cached_reps(digest: str, name: str, _upload: Upload):
    return load_reps(_upload.data, _upload.name)


def read_export(upload: Upload, mapping: Mapping | None, stage_edits: dict) -> LoadedExport:
    return _cached_export(
        upload.digest, upload.name, upload, json.dumps(mapping or {}, sort_keys=True),
        json.dumps(stage_edits, sort_keys=True),
    )  # fmt: skip


def read_targets(upload: Upload, settings: Settings) -> LoadedTargets:
    return _cached_targets(
        upload.digest, upload.name, upload, settings.fiscal_year_start_month,
        settings.fiscal_year_named_by_end, settings.as_of,
    )  # fmt: skip


def read_reps(upload: Upload) -> LoadedReps:
    return _cached_reps(upload.digest, upload.name, upload)


def sample_upload(kind: str) -> Upload:
    path = SAMPLE_FILES[kind]
    return _sample_bytes(str(path))


@st.cache_resource(show_spinner=False)
def _sample_bytes(path: str) -> Upload:
    return Upload.of(Path(path).name, Path(path).read_bytes())


def load_export(upload: Upload) -> LoadedExport:
    """The export read with the mapping and stage edits this session chose for its headers.

    Raises MissingFieldsError (a LoadError) when a required field has no column; the Data page
    then offers to pick the columns by hand.
    """
    try:
        loaded = read_export(upload, None, {})
    except MissingFieldsError as error:
        mapping = remembered("mappings").get(headers_key(error.headers))
        if not mapping:
            raise
        return read_export(
            upload, mapping, remembered("stage_edits").get(headers_key(error.headers), {})
        )
    key = headers_key(loaded.report.headers)
    mapping = remembered("mappings").get(key)
    edits = remembered("stage_edits").get(key, {})
    if mapping or edits:
        loaded = read_export(upload, mapping, edits)
    return loaded


def read_upload_with_status(upload: Upload, read, problems: list[str]) -> LoadedExport | None:
    """The uploaded export (keep_last_good with `read`) under a status line: while a new file
    is read it says which file and how large (a large export takes seconds), then how many deals
    it gave and how long it took, and it stays so while the file is in use: nothing on the page
    moves when the next click reruns the script."""
    outcomes = st.session_state.setdefault("upload_outcomes", {})
    key = (upload.digest, upload.name)
    if key in outcomes:
        label, state = outcomes[key]
        st.status(label, state=state)
        return keep_last_good("opportunities", upload, read, problems)
    # A label is Markdown: the file name, whatever its sender called it, is shown as typed.
    name = markdown_text(upload.name)
    with st.status(f"Reading {name} ({file_size(len(upload.data))})…") as status:
        started, problems_before = time.perf_counter(), len(problems)
        export = keep_last_good("opportunities", upload, read, problems)
        seconds = time.perf_counter() - started
        if len(problems) > problems_before:
            label, state = f"{name} could not be read.", "error"
        else:
            deals = export.report.rows_loaded
            label = f"Read {name}: {deals:,} deal{'' if deals == 1 else 's'} in {seconds:.1f} s."
            state = "complete"
        status.update(label=label, state=state)
    outcomes[key] = (label, state)
    return export


def keep_last_good(kind: str, upload: Upload, read, problems: list[str]):
    """What `read(upload)` gives; when the file cannot be used, its message goes to `problems`
    and the last file of this kind that did load stays in use: a failed upload never replaces
    data already loaded."""
    # Remembered per data source: a bad upload never falls back to the sample.
    last_good = st.session_state.setdefault("last_good", {}).setdefault(
        st.session_state.get("source"), {}
    )
    try:
        value = read(upload)
    except LoadError as error:
        problems.append(str(error))
        if kind == "opportunities":
            st.session_state.failed_upload = (upload, error)
    except Exception as error:  # a file we did not foresee must not show the user a traceback
        LOG.exception("Reading %s failed", upload.name)
        problems.append(
            f"{upload.name} could not be read: Closeboard did not expect what it found "
            f"({type(error).__name__}). Please report this file's layout to us."
        )
    else:
        if kind == "opportunities":
            st.session_state.pop("failed_upload", None)
        last_good[kind] = (upload.name, value)
        return value
    if kind in last_good:
        name, value = last_good[kind]
        problems.append(f"Still showing the last {KIND_NAMES[kind]} that loaded: {name}.")
        return value
    return None


def upload_of(uploaded) -> Upload:
    """An st.file_uploader file as an Upload; its digest is computed once per uploaded file."""
    digests = st.session_state.setdefault("upload_digests", {})
    if uploaded.file_id not in digests:
        digests[uploaded.file_id] = hashlib.sha256(uploaded.getvalue()).hexdigest()
    return Upload(uploaded.name, uploaded.getvalue(), digests[uploaded.file_id])


def export_headers(upload: Upload) -> tuple[str, ...]:
    """The headers of an export, even one that does not load without a hand-made mapping."""
    try:
        return read_export(upload, None, {}).report.headers
    except MissingFieldsError as error:
        return error.headers


def apply_mapping_file(mapping_file, opportunities: Upload, problems: list[str]) -> None:
    """A mapping JSON uploaded with the export applies to its headers, once per file, with
    the stage edits it carries."""
    applied = (mapping_file.file_id, opportunities.digest)
    if st.session_state.get("mapping_applied") == applied:
        return
    st.session_state.mapping_applied = applied
    try:
        headers = export_headers(opportunities)
        saved = apply_saved_mapping(mapping_from_json(mapping_file.getvalue()), headers)
        edits = stage_edits_from_json(mapping_file.getvalue())
    except LoadError as error:
        problems.append(str(error))
        return
    key = headers_key(headers)
    remembered("mappings")[key] = saved
    if edits:
        stage_edits = remembered("stage_edits")
        stage_edits[key] = {**stage_edits.get(key, {}), **edits}


def upload_of_files(uploaded: list, problems: list[str]) -> Upload | None:
    """The opportunities uploader's files as one Upload: one file as it is; the files of a
    Salesforce Data Export (its ZIPs, or Opportunity.csv with User.csv…) packed together;
    of other files, the last one chosen, and a note that the others are left aside."""
    if not uploaded:
        return None
    if len(uploaded) == 1:
        return upload_of(uploaded[0])
    key = tuple(file.file_id for file in uploaded)
    bundles = st.session_state.setdefault("upload_bundles", {})
    if key not in bundles:
        packed = bundle([(file.name, file.getvalue()) for file in uploaded])
        bundles.clear()  # one bundle per session is enough: the uploader holds one set of files
        bundles[key] = Upload.of(*packed) if packed else None
    if bundles[key] is None:
        latest = uploaded[-1]
        problems.append(
            f"{len(uploaded)} files are in the opportunities uploader and they are not the files "
            f"of one Salesforce Data Export: using the last one, {latest.name}. Remove the "
            "others (×) to keep this clear."
        )
        return upload_of(latest)
    return bundles[key]
