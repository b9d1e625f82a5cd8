-- The deals as they stood on $day, from a Data Export's OpportunityHistory: each deal created
-- on or before $day, with the stage, amount, close date, probability and forecast category of
-- its last change on or before $day. A deal closed on or before $day is as the export shows it;
-- one closed later was open then. in_history is false for a deal open on $day with no change
-- recorded by then: its values of that day are unknown.
-- Reads deals (the export's, as loaded) and history (flagged_history.sql's rows).
WITH last_change AS (
    SELECT opportunity_id, stage, amount, close_date, probability, forecast_category
    FROM history
    WHERE changed_on <= $day
    QUALIFY row_number() OVER (PARTITION BY opportunity_id ORDER BY changed_at DESC) = 1
)
SELECT
    d.* REPLACE (
        CASE WHEN d.status IN ('won', 'lost') AND d.close_date <= $day
            THEN CAST(d.status AS VARCHAR) ELSE 'open' END AS status,
        CASE WHEN d.status IN ('won', 'lost') AND d.close_date <= $day
            THEN CAST(d.stage AS VARCHAR) ELSE h.stage END AS stage,
        CASE WHEN d.status IN ('won', 'lost') AND d.close_date <= $day
            THEN d.amount ELSE h.amount END AS amount,
        CASE WHEN d.status IN ('won', 'lost') AND d.close_date <= $day
            THEN d.close_date ELSE h.close_date END AS close_date,
        CASE WHEN d.status IN ('won', 'lost') AND d.close_date <= $day
            THEN d.probability ELSE h.probability END AS probability,
        CASE WHEN d.status IN ('won', 'lost') AND d.close_date <= $day
            THEN CAST(d.forecast_category AS VARCHAR) ELSE h.forecast_category END
            AS forecast_category
    ),
    (d.status IN ('won', 'lost') AND d.close_date <= $day) OR h.opportunity_id IS NOT NULL
        AS in_history
FROM deals AS d
LEFT JOIN last_change AS h USING (opportunity_id)
WHERE d.created_date <= $day OR (d.status IN ('won', 'lost') AND d.close_date <= $day)
