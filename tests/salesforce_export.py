"""A small Salesforce Data Export built by hand, in the layouts Salesforce writes, and its right
answers worked out on paper (shared by the loader, page and browser tests).

Latin-1, every field quoted, CRLF line ends, 0/1 booleans, close dates with a time of day,
empty lookups written 000000000000000AAA, stage names in Spanish (status comes from IsWon and
IsClosed). Corporate currency USD; 1 EUR = 1 / 0.8 = 1.25 USD, 1 GBP = 1 / 0.5 = 2 USD.

Deals (Ana García and Ben Okafor report to Maria Schäfer):
    O1 Ana  Negociación      10,000 EUR  open  close 2026-11-30   = 12,500 USD
    O2 Ana  Prospección       4,000 USD  open  close 2026-12-15   =  4,000 USD
    O3 Ben  Cerrada ganada    3,000 GBP  won   close 2026-10-20   =  6,000 USD
    O4 Ben  Cerrada perdida   2,000 USD  lost  close 2026-10-05   =  2,000 USD
    O5 Ben  Negociación       8,000 USD  open, IsDeleted = 1: left out
    O6 Ben  Prospección       5,000 EUR  open  close 2027-01-15   =  6,250 USD (no account)
Open pipeline 12,500 + 4,000 + 6,250 = 22,750 USD; won 6,000; lost 2,000.

OpportunityHistory (one more row, of O6, has IsDeleted = 1 and is left out):
    O1 created 1 Aug; 20 Sep close 30 Sep → 31 Oct (push 1); 25 Oct → 30 Nov (push 2)
    O2 created 1 Sep in Negociación at 5,000; 1 Oct back to Prospección at 4,000 (a stage
       regression and an amount change); 10 Oct close 15 Dec → 1 Dec (pulled in, no push)
    O3 1 Sep close 30 Sep; 20 Oct won with close 20 Oct: later, but won, so no push
    O5 1 Oct close 1 Nov → 25 Nov: a push, of a deleted deal (not counted for any deal)
    O6 2 Nov close 15 Dec → 31 Dec (push 1); 10 Nov → 15 Jan (push 2)
11 changes to 5 deals: 5 close-date pushes, 1 stage regression, 1 amount change.
Pushes per loaded deal: O1 2, O6 2 (as of 5 Nov: O1 2, O6 1).

FiscalYearSettings: the year "2027" runs 1 Feb 2026 – 31 Jan 2027: it starts in February and is
named by the year it ends. ForecastingQuota: Ana 30,000 and Ben 20,000 for the quarter that
starts 1 Nov 2026 (Q4 FY2027).
"""

from __future__ import annotations

from tests.data.bad.make_corpus import zip_of

EMPTY = "000000000000000AAA"
ANA, BEN, MARIA = "0055g00000AnaGarc", "0055g00000BenOkaf", "0055g00000MariaSc"
SALES_ROLE, MANAGER_ROLE = "00E5g000000Ventas", "00E5g000000Direcc"
ACME, BIRCH = "0015g00000AcmeSAx", "0015g00000BirchxY"
O1, O2, O3, O4, O5, O6 = (f"0065g00000Opp{n:04d}" for n in range(1, 7))
AS_OF = "2026-11-20"
OPEN_PIPELINE_USD = 22_750
WON_USD = 6_000
LOST_USD = 2_000
PUSHES = {O1: 2, O6: 2}
PUSHES_AS_OF_5_NOV = {O1: 2, O6: 1}
HISTORY_SUMMARY = "11 changes to 5 deals: 5 close-date pushes, 1 stage regression, 1 amount change"


def csv_text(header: list[str], rows: list[list[str]]) -> bytes:
    """Every field quoted, CRLF line ends, ISO-8859-1, as Salesforce's Data Export writes."""
    lines = [header, *rows]
    text = "".join(
        ",".join('"' + cell.replace('"', '""') + '"' for cell in line) + "\r\n" for line in lines
    )
    return text.encode("latin-1")


OPPORTUNITY_HEADER = ["Id", "IsDeleted", "AccountId", "Name", "Description", "StageName",
                      "StageSortOrder", "Amount", "Probability", "ExpectedRevenue", "CloseDate",
                      "Type", "NextStep", "LeadSource", "IsClosed", "IsWon", "ForecastCategory",
                      "ForecastCategoryName", "CurrencyIsoCode", "OwnerId", "CreatedDate",
                      "LastActivityDate", "FiscalYear", "FiscalQuarter", "Region__c"]  # fmt: skip


def opportunity(
    deal_id: str, deleted: str, account: str, name: str, stage: str, order: str, amount: str,
    probability: str, close: str, closed: str, won: str, category: str, currency: str,
    owner: str, created: str,
) -> list[str]:  # fmt: skip
    return [deal_id, deleted, account, name, "Línea 1\r\n<b>Línea 2</b>", stage, order, amount,
            probability, amount, f"{close} 00:00:00", "New Business", "Llamar al cliente",
            "Web", closed, won, category, category, currency, owner, f"{created} 09:00:00",
            AS_OF, "2027", "4", "Iberia"]  # fmt: skip


OPPORTUNITIES = [
    opportunity(O1, "0", ACME, "Acme ampliación", "Negociación", "8", "10000.00", "90",
                "2026-11-30", "0", "0", "Forecast", "EUR", ANA, "2026-08-01"),
    opportunity(O2, "0", BIRCH, "Birch piloto", "Prospección", "1", "4000.00", "10",
                "2026-12-15", "0", "0", "Pipeline", "USD", ANA, "2026-09-01"),
    opportunity(O3, "0", ACME, "Acme renovación", "Cerrada ganada", "9", "3000.00", "100",
                "2026-10-20", "1", "1", "Closed", "GBP", BEN, "2026-07-01"),
    opportunity(O4, "0", BIRCH, "Birch licencias", "Cerrada perdida", "10", "2000.00", "0",
                "2026-10-05", "1", "0", "Omitted", "USD", BEN, "2026-06-01"),
    opportunity(O5, "1", ACME, "Acme borrada", "Negociación", "8", "8000.00", "90",
                "2026-11-25", "0", "0", "Forecast", "USD", BEN, "2026-09-15"),
    opportunity(O6, "0", EMPTY, "Sin cuenta", "Prospección", "1", "5000.00", "10",
                "2027-01-15", "0", "0", "Pipeline", "EUR", BEN, "2026-11-02"),
]  # fmt: skip

USERS = csv_text(
    ["Id", "Username", "LastName", "FirstName", "UserRoleId", "ManagerId", "IsActive"],
    [
        [ANA, "ana@example.com", "García", "Ana", SALES_ROLE, MARIA, "1"],
        [BEN, "ben@example.com", "Okafor", "Ben", SALES_ROLE, MARIA, "1"],
        [MARIA, "maria@example.com", "Schäfer", "Maria", MANAGER_ROLE, EMPTY, "1"],
    ],
)
ROLES = csv_text(
    ["Id", "Name", "ParentRoleId"],
    [[SALES_ROLE, "Ventas Iberia", MANAGER_ROLE], [MANAGER_ROLE, "Dirección", EMPTY]],
)
ACCOUNTS = csv_text(
    ["Id", "IsDeleted", "Name"], [[ACME, "0", "Acme S.A."], [BIRCH, "0", "Birch Ñandú"]]
)


def change(
    row_id: str, deal: str, created: str, stage: str, amount: str, close: str,
    prev_close: str = "", prev_amount: str = "", deleted: str = "0",
) -> list[str]:  # fmt: skip
    return [row_id, deal, ANA, f"{created}:00", stage, amount, close, prev_close, prev_amount,
            deleted]  # fmt: skip


HISTORY_HEADER = ["Id", "OpportunityId", "CreatedById", "CreatedDate", "StageName", "Amount",
                  "CloseDate", "PrevCloseDate", "PrevAmount", "IsDeleted"]  # fmt: skip
HISTORY_ROWS = [
        change("008h01", O1, "2026-08-01 09:00", "Prospección", "10000", "2026-09-30"),
        change("008h02", O1, "2026-09-20 10:00", "Negociación", "10000", "2026-10-31",
               "2026-09-30", "10000"),
        change("008h03", O1, "2026-10-25 11:00", "Negociación", "10000", "2026-11-30",
               "2026-10-31", "10000"),
        change("008h04", O2, "2026-09-01 09:00", "Negociación", "5000", "2026-12-15"),
        change("008h05", O2, "2026-10-01 09:00", "Prospección", "4000", "2026-12-15",
               "2026-12-15", "5000"),
        change("008h06", O2, "2026-10-10 09:00", "Prospección", "4000", "2026-12-01",
               "2026-12-15", "4000"),
        change("008h07", O3, "2026-09-01 09:00", "Negociación", "3000", "2026-09-30"),
        change("008h08", O3, "2026-10-20 09:00", "Cerrada ganada", "3000", "2026-10-20",
               "2026-09-30", "3000"),
        change("008h09", O5, "2026-10-01 09:00", "Negociación", "8000", "2026-11-25",
               "2026-11-01", "8000"),
        change("008h10", O6, "2026-11-02 09:00", "Prospección", "5000", "2026-12-31",
               "2026-12-15", "5000"),
        change("008h11", O6, "2026-11-10 09:00", "Prospección", "5000", "2027-01-15",
               "2026-12-31", "5000"),
        change("008h12", O6, "2026-11-12 09:00", "Prospección", "5000", "2027-02-15",
               "2027-01-15", "5000", deleted="1"),
]  # fmt: skip
HISTORY = csv_text(HISTORY_HEADER, HISTORY_ROWS)
CURRENCIES = csv_text(
    ["Id", "IsoCode", "ConversionRate", "DecimalPlaces", "IsActive", "IsCorporate"],
    [
        ["01L01", "USD", "1.000000", "2", "1", "1"],
        ["01L02", "EUR", "0.800000", "2", "1", "0"],
        ["01L03", "GBP", "0.500000", "2", "1", "0"],
    ],
)
FISCAL_YEARS = csv_text(
    ["Id", "PeriodId", "StartDate", "EndDate", "Name", "IsStandardYear", "YearType"],
    [["022x1", "026x1", "2026-02-01", "2027-01-31", "2027", "1", "Standard"]],
)
QUOTAS = csv_text(
    ["Id", "QuotaOwnerId", "StartDate", "QuotaAmount", "CurrencyIsoCode", "ForecastingTypeId"],
    [["0J9x1", ANA, "2026-11-01", "30000", "USD", "0Dbx1"],
     ["0J9x2", BEN, "2026-11-01", "20000", "USD", "0Dbx1"]],
)  # fmt: skip

FILES = {
    "Opportunity.csv": csv_text(OPPORTUNITY_HEADER, OPPORTUNITIES),
    "User.csv": USERS,
    "UserRole.csv": ROLES,
    "Account.csv": ACCOUNTS,
    "OpportunityHistory.csv": HISTORY,
    "CurrencyType.csv": CURRENCIES,
    "FiscalYearSettings.csv": FISCAL_YEARS,
    "ForecastingQuota.csv": QUOTAS,
}


def full_export() -> bytes:
    """The whole export, with an attachment beside the CSVs as big orgs get."""
    return zip_of({**FILES, "Attachments/00P5g000001.pdf": b"%PDF-1.4 not read"})


def export_without(*names: str) -> bytes:
    return zip_of({name: data for name, data in FILES.items() if name not in names})
