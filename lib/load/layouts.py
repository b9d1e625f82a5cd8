"""The CRM export layouts Closeboard knows by sight, and what each implies for reading it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Vendor default probabilities by stage, keyed by the stage name folded like a header (lowercase,
# letters and digits only) so that "Closed Won", "closedwon" and "Closed-Won" are one stage.
SALESFORCE_STAGES = {
    "prospecting": 0.10,
    "qualification": 0.10,
    "needsanalysis": 0.20,
    "valueproposition": 0.50,
    "iddecisionmakers": 0.60,
    "perceptionanalysis": 0.70,
    "proposalpricequote": 0.75,
    "negotiationreview": 0.90,
    "closedwon": 1.0,
    "closedlost": 0.0,
}
HUBSPOT_STAGES = {
    "appointmentscheduled": 0.20,
    "qualifiedtobuy": 0.40,
    "presentationscheduled": 0.60,
    "decisionmakerboughtin": 0.80,
    "contractsent": 0.90,
    "closedwon": 1.0,
    "closedlost": 0.0,
}
ZOHO_STAGES = {
    "qualification": 0.10,
    "needsanalysis": 0.20,
    "valueproposition": 0.40,
    "identifydecisionmakers": 0.60,
    "iddecisionmakers": 0.60,
    "perceptionanalysis": 0.70,
    "proposalpricequote": 0.75,
    "negotiationreview": 0.90,
    "closedwon": 1.0,
    "closedlost": 0.0,
    "closedlosttocompetition": 0.0,
}


def fold(text: str) -> str:
    """Lowercase letters and digits only: how headers and stage names are compared."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


@dataclass(frozen=True)
class Layout:
    """A recognised export layout: its name and how its cells are meant to be read."""

    name: str
    stage_probabilities: dict[str, float] = field(default_factory=dict)
    # Dates that fit both M/D and D/M are read in the origin's order, and the page says so.
    day_first: bool = False


SALESFORCE_REPORT = Layout("Salesforce report", SALESFORCE_STAGES)
SALESFORCE_API = Layout("Salesforce Data Loader / API export", SALESFORCE_STAGES)
SALESFORCE_DATA_EXPORT = Layout("Salesforce Data Export (Opportunity.csv)", SALESFORCE_STAGES)
HUBSPOT = Layout("HubSpot deals", HUBSPOT_STAGES)
PIPEDRIVE = Layout("Pipedrive deals", day_first=True)
MONDAY = Layout("monday.com sales board")
DYNAMICS = Layout("Microsoft Dynamics 365 opportunities")
ZOHO = Layout("Zoho CRM deals", ZOHO_STAGES)
MAVEN = Layout("CRM practice dataset (sales_pipeline.csv)")
SPREADSHEET = Layout("Spreadsheet")


def recognise_layout(headers: tuple[str, ...], european: bool = False) -> Layout:
    """Names the CRM that wrote these headers; a plain spreadsheet when none fits."""
    folded = {fold(header) for header in headers}

    def has(*names: str) -> bool:
        return all(name in folded for name in names)

    if any(header.lower().startswith("(do not modify)") for header in headers) or has(
        "estrevenue", "estclosedate"
    ):
        layout = DYNAMICS
    elif has("stagename", "isdeleted"):
        layout = SALESFORCE_DATA_EXPORT
    elif has("stagename") and (has("iswon") or has("ownerid")):
        layout = SALESFORCE_API
    elif has("opportunityowner") or has("opportunityname"):
        layout = SALESFORCE_REPORT
    elif sum(header.lower().startswith("deal - ") for header in headers) >= 2 or has(
        "title", "value", "status", "dealcreated"
    ):
        # Current Pipedrive exports drop the "Deal - " prefix.
        layout = PIPEDRIVE
    elif has("dealstatus", "tentativeclosedate") or has("dealstatus", "closedatea"):
        layout = MONDAY
    elif has("dealstage") and (has("recordid") or has("dealowner", "createdate")):
        layout = HUBSPOT
    elif has("dealowner", "closingdate") or has("closingdate", "stage", "dealname"):
        layout = ZOHO
    elif has("salesagent", "dealstage"):
        layout = MAVEN
    else:
        layout = SPREADSHEET
    if european and not layout.day_first:
        return Layout(layout.name, layout.stage_probabilities, day_first=True)
    return layout
