-- The history method (PRODUCT.md "Forecast"): each deal open on $day, with the share of deals
-- like it that were open at the same day of earlier quarters and won by their quarter's end.
-- Open on a day: created on or before it and not closed (won or lost) on or before it.
-- Alike: the same stage on that day where stage history gives one (its last entry on or before
-- the day), else the same age band since created; and the same size band, cut at the quartiles
-- of the amounts of deals won or lost in [$bands_from, $period_start). A deal with no deal like
-- it in earlier quarters takes the rate of every deal open at that day (from_all_deals).
-- Reads opportunities, stage_entries (opportunity_id, stage, entered_on) and earlier_quarters
-- (quarter_start, quarter_end, day: the same day of each earlier quarter).
WITH days AS (
    SELECT quarter_end, day, true AS learning FROM earlier_quarters
    UNION ALL
    SELECT $period_end, $day, false
),
cuts AS (
    SELECT quantile_cont(CAST(amount AS DOUBLE), [0.25, 0.5, 0.75]) AS cut
    FROM opportunities
    WHERE status IN ('won', 'lost') AND amount IS NOT NULL
        AND close_date >= $bands_from AND close_date < $period_start
),
stages_then AS (
    SELECT d.day, e.opportunity_id, arg_max(e.stage, e.entered_on) AS stage
    FROM days AS d
    JOIN stage_entries AS e ON e.entered_on <= d.day
    GROUP BY d.day, e.opportunity_id
),
open_then AS (
    SELECT
        d.learning, d.day, o.opportunity_id, o.name, o.owner, o.amount,
        -- An earlier quarter's outcome only: today's deals are what is projected.
        d.learning AND o.status = 'won' AND o.close_date <= d.quarter_end AS won_by_end,
        coalesce(
            'stage ' || s.stage,
            CASE
                WHEN d.day - o.created_date <= 30 THEN 'created 0–30 days before'
                WHEN d.day - o.created_date <= 90 THEN 'created 31–90 days before'
                WHEN d.day - o.created_date <= 180 THEN 'created 91–180 days before'
                ELSE 'created over 180 days before'
            END
        ) AS alike_by,
        CASE
            WHEN o.amount IS NULL THEN NULL
            WHEN c.cut IS NULL OR o.amount <= c.cut[1] THEN 1
            WHEN o.amount <= c.cut[2] THEN 2
            WHEN o.amount <= c.cut[3] THEN 3
            ELSE 4
        END AS size_band
    FROM days AS d
    JOIN opportunities AS o
        ON o.created_date <= d.day
        AND NOT (o.status IN ('won', 'lost') AND o.close_date <= d.day)
    LEFT JOIN stages_then AS s ON s.day = d.day AND s.opportunity_id = o.opportunity_id
    CROSS JOIN cuts AS c
),
alike AS (
    SELECT alike_by, size_band, count(*) AS alike_open, count(*) FILTER (won_by_end) AS alike_won
    FROM open_then
    WHERE learning
    GROUP BY alike_by, size_band
),
everyone AS (
    SELECT count(*) AS all_open, count(*) FILTER (won_by_end) AS all_won
    FROM open_then
    WHERE learning
)
SELECT
    t.opportunity_id, t.name, t.owner, t.alike_by, t.size_band, t.amount,
    coalesce(a.alike_open, e.all_open) AS alike_open,
    coalesce(a.alike_won, e.all_won) AS alike_won,
    a.alike_open IS NULL AND t.size_band IS NOT NULL AS from_all_deals,
    coalesce(a.alike_won, e.all_won) / nullif(coalesce(a.alike_open, e.all_open), 0) AS p,
    CAST(t.amount AS DOUBLE) * coalesce(a.alike_won, e.all_won)
        / nullif(coalesce(a.alike_open, e.all_open), 0) AS expected
FROM open_then AS t
LEFT JOIN alike AS a ON a.alike_by = t.alike_by AND a.size_band = t.size_band
CROSS JOIN everyone AS e
WHERE NOT t.learning
ORDER BY expected DESC NULLS LAST, t.opportunity_id
