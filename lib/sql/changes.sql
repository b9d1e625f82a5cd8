-- Every deal of the older and the newer export side by side, matched on deal_key, with its
-- place in the period's open pipeline at each date and its one movement between them (the
-- buckets are defined in lib/changes.py). Reads the views older, newer (each with a deal_key)
-- and stage_order (stage, position) of the newer export.
WITH matched AS (
    SELECT
        coalesce(n.opportunity_id, o.opportunity_id) AS opportunity_id,
        coalesce(n.name, o.name) AS name,
        coalesce(n.account, o.account) AS account,
        coalesce(n.owner, o.owner) AS owner,
        o.deal_key IS NOT NULL AS in_older,
        n.deal_key IS NOT NULL AS in_newer,
        o.status AS status_before,
        n.status AS status_after,
        o.stage AS stage_before,
        n.stage AS stage_after,
        o.amount AS amount_before,
        n.amount AS amount_after,
        o.close_date AS close_date_before,
        n.close_date AS close_date_after,
        o.probability AS probability_before,
        n.probability AS probability_after
    FROM older AS o
    FULL OUTER JOIN newer AS n ON n.deal_key = o.deal_key
),
placed AS (
    SELECT
        *,
        coalesce(status_before = 'open'
            AND close_date_before BETWEEN $period_start AND $period_end, FALSE)
            AS in_pipeline_before,
        coalesce(status_after = 'open'
            AND close_date_after BETWEEN $period_start AND $period_end, FALSE)
            AS in_pipeline_after,
        coalesce(amount_before, 0) AS value_before,
        coalesce(amount_after, 0) AS value_after
    FROM matched
),
moved AS (
    SELECT
        *,
        CASE
            WHEN in_pipeline_before AND in_pipeline_after THEN
                CASE
                    WHEN value_after > value_before THEN 'increased'
                    WHEN value_after < value_before THEN 'decreased'
                END
            WHEN in_pipeline_before THEN
                CASE
                    WHEN NOT in_newer THEN 'removed'
                    WHEN status_after = 'won' THEN 'won'
                    WHEN status_after = 'lost' THEN 'lost'
                    ELSE 'pushed_out'
                END
            WHEN in_pipeline_after THEN
                CASE WHEN NOT in_older THEN 'new' ELSE 'pulled_in' END
        END AS movement
    FROM placed
)
SELECT
    m.opportunity_id,
    m.name,
    m.account,
    m.owner,
    m.movement,
    CASE
        WHEN m.movement IN ('increased', 'decreased') THEN abs(m.value_after - m.value_before)
        WHEN m.movement IN ('new', 'pulled_in') THEN m.value_after
        WHEN m.movement IS NOT NULL THEN m.value_before
        ELSE 0
    END::DECIMAL(18, 2) AS movement_amount,
    m.in_older,
    m.in_newer,
    m.in_pipeline_before,
    m.in_pipeline_after,
    m.status_before,
    m.status_after,
    m.stage_before,
    m.stage_after,
    m.amount_before,
    m.amount_after,
    m.close_date_before,
    m.close_date_after,
    -- A stage regression: an open deal moved to a stage earlier in the newer export's stage
    -- order; when either stage is not in that order, to a lower probability.
    coalesce(
        m.status_before = 'open' AND m.status_after = 'open'
        AND m.stage_before <> m.stage_after
        AND CASE
            WHEN b.position IS NOT NULL AND a.position IS NOT NULL THEN a.position < b.position
            ELSE m.probability_after < m.probability_before
        END,
        FALSE
    ) AS regressed
FROM moved AS m
LEFT JOIN stage_order AS b ON b.stage = m.stage_before
LEFT JOIN stage_order AS a ON a.stage = m.stage_after
WHERE m.movement IS NOT NULL
    OR NOT (m.in_older AND m.in_newer)
    OR m.status_before IS DISTINCT FROM m.status_after
    OR m.stage_before IS DISTINCT FROM m.stage_after
    OR m.amount_before IS DISTINCT FROM m.amount_after
    OR m.close_date_before IS DISTINCT FROM m.close_date_after
ORDER BY m.movement IS NULL, m.owner, m.name, m.opportunity_id
