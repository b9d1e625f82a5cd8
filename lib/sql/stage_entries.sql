-- When each deal entered each stage, each deal's rows from its most exact source
-- (lib/stage_history.py): 0 OpportunityHistory; 1 a column for every stage (HubSpot's Date
-- entered); 2 the date the deal entered its current stage (Pipedrive's Last stage change,
-- LastStageChangeDate, Stage Duration), with the stages the snapshots dated before that day;
-- 3 the snapshots alone. A row of the stage the deal was in already is no entry.
WITH single_dates AS (
    SELECT opportunity_id, min(entered_on) AS changed_on
    FROM from_columns
    WHERE NOT dates_every_stage
    GROUP BY opportunity_id
),
ranked AS (
    SELECT opportunity_id, stage, entered_on, 0 AS source FROM from_history
    UNION ALL
    SELECT opportunity_id, stage, entered_on, CASE WHEN dates_every_stage THEN 1 ELSE 2 END
    FROM from_columns
    UNION ALL
    SELECT s.opportunity_id, s.stage, s.entered_on, 2
    FROM from_snapshots AS s
    JOIN single_dates AS d ON d.opportunity_id = s.opportunity_id AND s.entered_on < d.changed_on
    UNION ALL
    SELECT opportunity_id, stage, entered_on, 3 FROM from_snapshots
),
chosen AS (
    SELECT opportunity_id, stage, entered_on
    FROM ranked
    QUALIFY source = min(source) OVER (PARTITION BY opportunity_id)
)
SELECT opportunity_id, stage, entered_on
FROM chosen
QUALIFY stage IS DISTINCT FROM
    lag(stage) OVER (PARTITION BY opportunity_id ORDER BY entered_on, stage)
ORDER BY opportunity_id, entered_on, stage
