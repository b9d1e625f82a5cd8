-- Value parsers for CRM export cells, as DuckDB macros so that a million rows parse in SQL.
-- Each takes the raw text of a cell and returns NULL when the cell is blank or unreadable;
-- the per-column choices (decimal comma, date format, probability scale) are decided once
-- per column in Python (lib/load/values.py) and passed in as arguments.

-- "USD 1,234.50", "$12,345.00", "(1,234)", "-1.234,56 €", "12 345,67", "1.2E+05".
-- Group 1/2/4 carry a sign or an opening/closing parenthesis; group 3 is the number itself.
CREATE OR REPLACE MACRO amount_parts(raw, part) AS regexp_extract(
    trim(raw),
    '^([-−(])?\s*(?:[A-Za-z]{1,3}\$?|[$€£¥₹₩])?\s*([-−])?\s*(\d[\d.,'' \x{00a0}]*)\s*(?:[A-Za-z]{1,3}|[$€£¥₹₩])?\s*([-−)])?$',
    part
);

CREATE OR REPLACE MACRO amount_number_text(raw) AS
    nullif(regexp_replace(amount_parts(raw, 3), '['' \x{00a0}]', '', 'g'), '');

CREATE OR REPLACE MACRO amount_is_negative(raw) AS
    amount_parts(raw, 1) <> '' OR amount_parts(raw, 2) <> '' OR amount_parts(raw, 4) <> '';

-- An amount column is read in one of three formats (lib/load/values.py DECIMAL_POINT…):
-- 'decimal point' ("12,345.67"), 'decimal comma' ("12.345,67") or 'Indian grouping'
-- ("12,34,567.89"). Thousands separators must form whole groups: a cell like "1,23" (a decimal
-- comma in a dot-decimal file) or "12,34,5" is unreadable, never 123 or 12,345. A cell is badly
-- grouped when a run of four digits or more is followed by a separator and a digit, or when a
-- separator between digits is followed by a group of one, two, or four digits or more. With
-- Indian grouping, groups of two come before the last group of three ("12,34,567"): a group
-- of two is bad only at the end of the number, a run of three or more only before a separator.
-- The exponent of "1.2E+05" ends a number like any other character. Each pattern is a
-- constant, so DuckDB compiles it once.
CREATE OR REPLACE MACRO amount_badly_grouped(raw, fmt) AS CASE fmt
    WHEN 'decimal comma' THEN regexp_matches(
        raw, '\d{4,}[.'' \x{00a0}]\d|\d[.'' \x{00a0}](?:\d{1,2}(?:\D|$)|\d{4})')
    WHEN 'Indian grouping' THEN regexp_matches(
        raw, '\d{3,}[,'' \x{00a0}]\d|\d[,'' \x{00a0}](?:\d(?:\D|$)|\d{4}|\d\d'
            || '(?:[^\d,'' \x{00a0}]|$|[,'' \x{00a0}](?:\D|$)))')
    ELSE regexp_matches(raw, '\d{4,}[,'' \x{00a0}]\d|\d[,'' \x{00a0}](?:\d{1,2}(?:\D|$)|\d{4})')
END;

-- The common cell ("$12,345.00", "12.345,67", "1234.5") casts once its separators are dropped;
-- only the rest ("USD 1,234.50", "(1,234)", "1.234,56 €") takes the regular expression.
CREATE OR REPLACE MACRO plain_amount(raw, fmt) AS TRY_CAST(
    CASE
        WHEN fmt = 'decimal comma' THEN replace(replace(trim(raw), '.', ''), ',', '.')
        ELSE replace(replace(trim(raw), ',', ''), '$', '')
    END AS DECIMAL(18, 2));

CREATE OR REPLACE MACRO parse_amount(raw, fmt) AS CASE WHEN NOT amount_badly_grouped(raw, fmt)
    THEN coalesce(
        plain_amount(raw, fmt),
        CASE
            WHEN regexp_full_match(trim(raw), '[-+]?\d+(\.\d+)?[eE][-+]?\d+')
                THEN TRY_CAST(TRY_CAST(trim(raw) AS DOUBLE) AS DECIMAL(18, 2))
            ELSE (CASE WHEN amount_is_negative(raw) THEN -1 ELSE 1 END) * TRY_CAST(
                CASE
                    WHEN fmt = 'decimal comma'
                        THEN replace(replace(amount_number_text(raw), '.', ''), ',', '.')
                    ELSE replace(amount_number_text(raw), ',', '')
                END AS DECIMAL(18, 2))
        END
    )
END;

-- The date part of a cell: drops a time of day ("17:00", "14:22:10.000+0000", "9:14 AM");
-- most cells have none, and skip the regular expression.
CREATE OR REPLACE MACRO date_text(raw) AS CASE
    WHEN contains(raw, ':') THEN nullif(regexp_replace(trim(raw), '[ T]\d{1,2}:\d{2}.*$', ''), '')
    ELSE nullif(trim(raw), '')
END;

-- Excel stores dates as days since 1899-12-30; an .xlsx export may carry them as plain numbers.
CREATE OR REPLACE MACRO excel_serial_date(raw) AS CASE
    WHEN regexp_full_match(trim(raw), '\d{5}(\.\d+)?')
        AND TRY_CAST(trim(raw) AS DOUBLE) BETWEEN 20000 AND 80000
        THEN DATE '1899-12-30' + CAST(floor(TRY_CAST(trim(raw) AS DOUBLE)) AS INTEGER)
END;

-- A cell as the day it writes in the column's text format, placeholders and misreadings
-- included. Most cells are the bare date and parse as they are; only the rest are trimmed and cut.
CREATE OR REPLACE MACRO date_as_written(raw, fmt) AS
    CAST(coalesce(try_strptime(raw, fmt), try_strptime(date_text(raw), fmt)) AS DATE);

-- Days CRMs and spreadsheets write for "no date": Excel's and Unix's day zero, .NET's first day,
-- and "never" (any day of the year 9999).
CREATE OR REPLACE MACRO placeholder_day(day) AS
    day IN (DATE '0001-01-01', DATE '1899-12-30', DATE '1899-12-31', DATE '1900-01-01',
            DATE '1970-01-01')
    OR day >= DATE '9999-01-01';

-- A date in the column's format, or NULL: a placeholder (placeholder_day) is no date. Years
-- before 1900 are misreadings ("24" read as the year 24), and strptime reads the word "infinity"
-- as 1 January 1900: clamping every date to between that day and 9999-01-01 and then dropping
-- those two days (and 1970-01-01) discards them all while parsing each cell only once. An Excel
-- serial number (20000 to 80000) is never a placeholder.
CREATE OR REPLACE MACRO parse_date(raw, fmt) AS CASE
    WHEN fmt = 'excel serial' THEN excel_serial_date(raw)
    ELSE nullif(nullif(nullif(
        least(greatest(date_as_written(raw, fmt), DATE '1900-01-01'), DATE '9999-01-01'),
        DATE '1900-01-01'), DATE '9999-01-01'), DATE '1970-01-01')
END;

-- "70%", "70", "0.7", "70,5 %": a share from 0 to 1; percent_scale says the column runs 0–100.
CREATE OR REPLACE MACRO probability_number(raw) AS coalesce(
    TRY_CAST(trim(raw) AS DOUBLE),
    TRY_CAST(
        replace(nullif(regexp_extract(trim(raw), '^(\d+(?:[.,]\d+)?)\s*%?$', 1), ''), ',', '.')
        AS DOUBLE)
);

CREATE OR REPLACE MACRO probability_share(raw, percent_scale) AS probability_number(raw)
    / CASE WHEN percent_scale OR contains(raw, '%') THEN 100 ELSE 1 END;

CREATE OR REPLACE MACRO parse_probability(raw, percent_scale) AS CASE
    WHEN probability_share(raw, percent_scale) BETWEEN 0 AND 1
        THEN probability_share(raw, percent_scale)
END;

CREATE OR REPLACE MACRO parse_bool(raw) AS CASE
    WHEN lower(trim(raw)) IN ('true', '1', 'yes', 'y', 't', 'x', 'wahr', 'vrai', 'sí', 'si', 'ja')
        THEN TRUE
    WHEN lower(trim(raw)) IN ('false', '0', 'no', 'n', 'f', 'falsch', 'faux', 'nein', '')
        THEN FALSE
END;

-- A forecast category as one of Pipeline, Best Case, Commit, Closed and Omitted, whatever its
-- case and spaces ("BestCase", " commit"); Forecast is read as Commit. NULL for any other.
CREATE OR REPLACE MACRO parse_forecast_category(raw) AS CASE replace(lower(trim(raw)), ' ', '')
    WHEN 'pipeline' THEN 'Pipeline'
    WHEN 'bestcase' THEN 'Best Case'
    WHEN 'commit' THEN 'Commit'
    WHEN 'forecast' THEN 'Commit'
    WHEN 'closed' THEN 'Closed'
    WHEN 'omitted' THEN 'Omitted'
END;

-- Text cells: trimmed, blank as NULL. Salesforce's Data Export writes an empty lookup
-- (no account, no owner) as the null ID 000000000000000AAA. Only a cell with a space at either
-- end is trimmed: trimming copies the text, which for every cell cost 0.2 s at a million rows.
CREATE OR REPLACE MACRO clean_text(raw) AS nullif(
    nullif(CASE WHEN starts_with(raw, ' ') OR ends_with(raw, ' ') THEN trim(raw) ELSE raw END, ''),
    '000000000000000AAA'
);
