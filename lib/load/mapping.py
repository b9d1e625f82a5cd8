"""Which column of an export holds each canonical field, guessed from headers or saved as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass

from lib.load.errors import LoadError
from lib.load.files import columns_found
from lib.load.layouts import fold
from lib.load.stages import STATUSES


@dataclass(frozen=True)
class Field:
    """A canonical field, the header spellings CRMs use for it (folded, best first)."""

    key: str
    label: str
    spellings: tuple[str, ...]
    required: bool = False


FIELDS: tuple[Field, ...] = (
    Field("owner", "Owner (the rep)", ("opportunityowner", "dealowner", "owner", "ownername",
          "salesagent", "salesrep", "rep", "accountexecutive", "assignedto", "salesperson",
          "ownerfullname", "ownerid"), required=True),
    Field("stage", "Stage", ("stage", "stagename", "dealstage", "salesstage", "pipelinephase",
          "stagepipeline", "pipelinestage", "phase"), required=True),
    Field("amount", "Amount", ("amount", "value", "dealvalue", "estrevenue", "estimatedrevenue",
          "closevalue", "dealamount", "opportunityamount", "revenue", "totalvalue"), required=True),
    Field("close_date", "Close date", ("closedate", "expectedclosedate", "closingdate",
          "estclosedate", "estimatedclosedate", "expectedclose", "expectedclosingdate",
          "targetclosedate", "tentativeclosedate"), required=True),
    Field("opportunity_id", "Opportunity ID", ("opportunityid", "id", "recordid", "dealid",
          "donotmodifyopportunity", "opportunitynumber", "dealnumber")),
    Field("name", "Deal name", ("opportunityname", "dealname", "name", "title", "topic",
          "dealtitle", "opportunity", "deal", "subject")),
    Field("account", "Account", ("accountname", "account", "associatedcompany", "company",
          "organization", "organisation", "organizationname", "potentialcustomer", "customer",
          "client", "companyname", "accountid")),
    Field("currency", "Currency", ("currency", "currencyisocode", "currencyofvalue",
          "dealcurrency", "amountcurrency", "currencycode")),
    Field("created_date", "Created date", ("createddate", "createdate", "created", "dealcreated",
          "createdon", "createdtime", "creationdate", "engagedate", "datecreated", "createdat")),
    Field("probability", "Probability", ("probability", "probabilitypercent", "winprobability",
          "dealprobability", "closureprobability")),
    # ForecastCategory holds the API values (BestCase, Forecast…), the same in every language.
    Field("forecast_category", "Forecast category", ("forecastcategory", "forecastcategoryname",
          "forecast")),
    Field("lead_source", "Lead source", ("leadsource", "source", "originalsource", "sourceorigin",
          "dealsource", "channel", "sourcechannel")),
    Field("type", "Type", ("type", "dealtype", "opportunitytype", "businesstype")),
    Field("last_activity_date", "Last activity date", ("lastactivity", "lastactivitydate",
          "lastactivitytime", "lastactivityon", "lastcontacted", "dateoflastactivity")),
    Field("next_step", "Next step", ("nextstep", "nextsteps", "nextaction")),
    # Why a lost deal was lost. Dynamics' Status Reason also names the reason for open and won
    # deals ("In Progress", "Won"); only a lost deal's is read as a loss reason. Salesforce orgs
    # add it as a custom field (LossReason__c, Closed_Lost_Reason__c).
    Field("loss_reason", "Loss reason", ("lossreason", "closedlostreason", "lostreason",
          "reasonlost", "reasonforloss", "statusreason", "lossreasonc", "closedlostreasonc",
          "lostreasonc", "reasonlostc")),
    Field("team", "Team", ("team", "salesteam", "regionaloffice", "region", "territory")),
    Field("manager", "Manager", ("manager", "salesmanager", "ownermanager", "reportsto")),
    # Columns that decide a deal's status and real close when the export has them.
    Field("status", "Status (open / won / lost)", ("status", "dealstatus", "opportunitystatus")),
    # HubSpot: "Is Closed Won" and "Is Deal Closed?".
    Field("is_won", "Won flag (IsWon)", ("iswon", "won", "isclosedwon")),
    Field("is_closed", "Closed flag (IsClosed)", ("isclosed", "closed", "isdealclosed")),
    Field("is_deleted", "Deleted flag (IsDeleted)", ("isdeleted",)),
    Field("won_date", "Won date", ("wontime", "wondate", "datewon")),
    Field("lost_date", "Lost date", ("losttime", "lostdate", "datelost")),
    # monday.com's sales board names the actual close date "Close Date (A)".
    Field("actual_close_date", "Actual close date", ("actualclosedate", "closedon", "dateclosed",
          "closedtime", "closedatea")),
    Field("actual_amount", "Actual revenue (won deals)", ("actualrevenue", "actualvalue",
          "actualamount")),
    # Every deal's amount in the company's currency, converted by the CRM at its own dated rates:
    # a multi-currency Salesforce report's Amount (converted), HubSpot's Amount in company
    # currency. When mapped, figures use it (lib/session.py).
    Field("converted_amount", "Amount in the company's currency", ("amountconverted",
          "amountincompanycurrency", "convertedamount")),
    Field("converted_currency", "Currency of the converted amount", ("amountconvertedcurrency",
          "convertedamountcurrency")),
)  # fmt: skip
FIELDS_BY_KEY = {field.key: field for field in FIELDS}
DATE_FIELDS = ("close_date", "created_date", "last_activity_date", "won_date", "lost_date",
               "actual_close_date")  # fmt: skip
AMOUNT_FIELDS = ("amount", "actual_amount", "converted_amount")
VENDOR_PREFIXES = ("deal", "opportunity", "opp")

# What to add to an export that lacks a required field, in the user's words.
HOW_TO_ADD = {
    "owner": "the deal owner column (Opportunity Owner, Deal owner…)",
    "stage": "the stage column (Stage, Deal Stage…)",
    "amount": "the amount column (Amount, Value…)",
    "close_date": "the close date column (Close Date, Expected close date…)",
}

Mapping = dict[str, str]


class MissingFieldsError(LoadError):
    """An export without a column for a required field; carries what the mapping editor needs."""

    def __init__(self, message: str, headers: tuple[str, ...], mapping: Mapping) -> None:
        super().__init__(message)
        self.headers = headers
        self.mapping = mapping


def header_spellings(header: str) -> tuple[str, ...]:
    """The folded header, then without a vendor prefix ("Deal - Value" also reads as "value")."""
    folded = fold(header.rstrip("*"))
    bare = [folded[len(prefix) :] for prefix in VENDOR_PREFIXES if folded.startswith(prefix)]
    return (folded, *[b for b in bare if b])


def propose_mapping(headers: tuple[str, ...]) -> Mapping:
    """For each canonical field the header that names it, by the best spelling each field has."""
    readings = {header: header_spellings(header) for header in headers}
    mapping: Mapping = {}
    taken: set[str] = set()
    for field in FIELDS:
        for spelling in field.spellings:
            match = next(
                (h for h in headers if h not in taken and spelling == readings[h][0]), None
            ) or next((h for h in headers if h not in taken and spelling in readings[h][1:]), None)
            if match:
                mapping[field.key] = match
                taken.add(match)
                break
    return mapping


def missing_required(mapping: Mapping) -> list[str]:
    missing = [f.key for f in FIELDS if f.required and f.key not in mapping]
    # Status columns (IsWon, Deal - Status) stand in for a stage: the stage is then the status.
    if "stage" in missing and ({"status", "is_won"} & mapping.keys()):
        missing.remove("stage")
    return missing


def check_required(mapping: Mapping, headers: tuple[str, ...], filename: str) -> None:
    """Raises LoadError naming each missing field, what was found and how to add it."""
    missing = missing_required(mapping)
    if not missing:
        return
    names = ", ".join(FIELDS_BY_KEY[key].label.lower() for key in missing)
    how = "; ".join(HOW_TO_ADD[key] for key in missing)
    raise MissingFieldsError(
        f"{filename} has no column for the {names}. Columns found: {columns_found(headers)}. "
        f"Add {how} to the export, or pick the columns by hand on the Data page.",
        headers,
        mapping,
    )


def apply_saved_mapping(saved: Mapping, headers: tuple[str, ...]) -> Mapping:
    """A saved mapping where its headers exist, the automatic guess for everything else."""
    mapping = {key: header for key, header in saved.items() if header in headers}
    taken = set(mapping.values())
    for key, header in propose_mapping(headers).items():
        if key not in mapping and header not in taken:
            mapping[key] = header
            taken.add(header)
    return mapping


def mapping_to_json(
    mapping: Mapping, headers: tuple[str, ...], stage_edits: dict[str, dict] | None = None
) -> str:
    """The mapping file the Data page downloads, with the stage edits (and so the answers to
    its questions) made for these headers."""
    return json.dumps(
        {"closeboard": "column mapping", "version": 1, "headers": list(headers), "fields": mapping,
         "stage_edits": stage_edits or {}},
        indent=2,
    )  # fmt: skip


def mapping_from_json(text: str | bytes) -> Mapping:
    """Reads a mapping file written by mapping_to_json; LoadError for anything else."""
    try:
        document = json.loads(text)
        fields = document["fields"]
        if document.get("closeboard") != "column mapping" or not isinstance(fields, dict):
            raise ValueError
    except (ValueError, KeyError, TypeError) as error:
        raise LoadError(
            "That is not a Closeboard column mapping: expected the JSON file downloaded from the "
            "Data page."
        ) from error
    unknown = sorted(set(fields) - FIELDS_BY_KEY.keys())
    if unknown:
        raise LoadError(f"The mapping names fields Closeboard does not know: {', '.join(unknown)}.")
    return {str(key): str(header) for key, header in fields.items()}


def stage_edits_from_json(text: str | bytes) -> dict[str, dict[str, object]]:
    """The stage edits a mapping file carries ({} in a file saved before it carried them);
    LoadError when the file is not a mapping or an edit is not one the Data page makes."""
    mapping_from_json(text)
    edits = json.loads(text).get("stage_edits", {})
    if not isinstance(edits, dict) or not all(_is_stage_edit(e) for e in edits.values()):
        raise LoadError(
            "The mapping's stage edits are not as the Data page saves them: each stage needs a "
            f"status ({', '.join(STATUSES)}), a probability from 0 to 1 and a late mark."
        )
    return edits


def _is_stage_edit(edit: object) -> bool:
    return (
        isinstance(edit, dict)
        and edit.get("status") in STATUSES
        and isinstance(edit.get("probability"), int | float)
        and 0 <= edit["probability"] <= 1
        and isinstance(edit.get("late"), bool)
    )


def with_choices(mapping: Mapping, choices: dict[str, str | None]) -> Mapping:
    """The mapping after the user picked a column (or none) for some fields."""
    changed = {**mapping, **{key: column for key, column in choices.items() if column}}
    return {key: column for key, column in changed.items() if choices.get(key, column)}
