-- The history's changes, each flagged. A push is an OpportunityHistory row of an open deal whose
-- close date is later than the one before it (PRODUCT.md "Snapshots"): PrevCloseDate, or the
-- deal's previous row when an older export lacks that column. A regression moves an open deal
-- to an earlier open stage of the export's order; an amount change is any other amount.
-- Reads history (OpportunityHistory's rows, lib/load/zip_export.py) and stage_order
-- (stage, status, position).
WITH ordered AS (
    SELECT h.*,
        coalesce(r.status, 'open') AS status,
        r.position,
        coalesce(h.prev_close_date, lag(h.close_date) OVER by_deal) AS close_date_before,
        CASE WHEN row_number() OVER by_deal > 1 OR h.prev_amount IS NOT NULL
            THEN coalesce(h.prev_amount, lag(h.amount) OVER by_deal) END AS amount_before,
        row_number() OVER by_deal > 1 AS has_before,
        lag(h.stage) OVER by_deal AS stage_before,
        lag(coalesce(r.status, 'open')) OVER by_deal AS status_before,
        lag(r.position) OVER by_deal AS position_before
    FROM history AS h
    LEFT JOIN stage_order AS r ON r.stage = h.stage
    WINDOW by_deal AS (PARTITION BY h.opportunity_id ORDER BY h.changed_at, h.source_row)
)
SELECT
    opportunity_id, changed_at, CAST(changed_at AS DATE) AS changed_on, stage, amount,
    close_date, close_date_before, amount_before, stage_before,
    coalesce(status = 'open' AND close_date > close_date_before, false) AS pushed,
    coalesce(status = 'open' AND status_before = 'open' AND position < position_before,
        false) AS regressed,
    has_before AND amount IS DISTINCT FROM amount_before AS amount_changed,
    probability, forecast_category
FROM ordered
ORDER BY opportunity_id, changed_at, source_row
