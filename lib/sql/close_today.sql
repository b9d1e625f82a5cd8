-- Open late-stage deals, of $owner's alone when given, whose close date lies after $after
-- (when given) and on or before $through (when given). Late stage: a forecast category the user
-- counts as late, a probability at or above the threshold, or a stage marked late on the Data
-- page. `pushes` counts the deal's close-date pushes over saved snapshots (lib/changes.py);
-- `days_in_stage` and its stage's `median_days` come from stage history (lib/stage_history.py).
-- `work_order` ranks the deals in the order to work them: Commit, then Best Case, then any other
-- category (a stage marked late, or a probability over the threshold, can bring a Pipeline deal
-- onto the list); within each the largest weighted amount first; equal deals by close date and
-- ID, so the list reads the same on every run.
SELECT
    opportunity_id,
    owner,
    name,
    account,
    stage,
    forecast_category,
    amount,
    probability,
    CAST(amount * probability AS DECIMAL(18, 2)) AS weighted,
    close_date,
    greatest($as_of::DATE - close_date, 0) AS days_overdue,
    -- Activity after the as-of date (a date picked in the past) is as recent as can be.
    CASE WHEN last_activity_date IS NOT NULL
        THEN greatest($as_of::DATE - last_activity_date, 0) END AS days_since_activity,
    next_step,
    coalesce(p.pushes, 0) AS pushes,
    s.days_in_stage,
    s.median_days,
    row_number() OVER (
        ORDER BY
            coalesce(list_position(['Commit', 'Best Case'], forecast_category), 3),
            -- The weighted amount again, not by its name: a column of the export's own may
            -- be called weighted, and a column's name wins over a name given here.
            CAST(amount * probability AS DECIMAL(18, 2)) DESC NULLS LAST,
            close_date,
            opportunity_id
    ) AS work_order
FROM open_opportunities
LEFT JOIN (SELECT opportunity_id, pushes FROM push_counts) AS p USING (opportunity_id)
LEFT JOIN (SELECT opportunity_id, days_in_stage, median_days FROM stage_days) AS s
    USING (opportunity_id)
WHERE ($owner::VARCHAR IS NULL OR owner = $owner::VARCHAR)
    AND ($after::DATE IS NULL OR close_date > $after::DATE)
    AND ($through::DATE IS NULL OR close_date <= $through::DATE)
    AND (
        list_contains($late_forecast_categories::VARCHAR[], forecast_category)
        OR probability >= $late_min_probability
        OR late_stage
    )
