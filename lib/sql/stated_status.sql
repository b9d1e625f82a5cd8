-- Each row's cells (cells: every field read from its raw column, lib/load/classify.py) with the
-- status the export states: IsWon and IsClosed first, then the words of a Status column
-- (status_says, which stage_signals.sql also reads; monday.com's sales board says Dead for
-- lost, On Hold for a deal still open).
-- Without a stage column the stated status ("won", "open") stands in as the stage.
SELECT * REPLACE (coalesce(stage, status) AS stage),
    CASE
        WHEN is_won THEN 'won'
        -- Closed and not won is lost only where the export says won or not: a HubSpot file
        -- with "Is Deal Closed?" alone leaves won or lost to the Status column or the stage.
        WHEN is_closed AND is_won IS NOT NULL THEN 'lost'
        WHEN is_closed = FALSE THEN 'open'
        ELSE status_says
    END AS stated_status
FROM (
    SELECT *,
        CASE
            WHEN lower(status) IN ('won', 'closed won', 'closedwon') THEN 'won'
            WHEN lower(status) IN ('lost', 'closed lost', 'closedlost', 'dead') THEN 'lost'
            WHEN lower(status) IN ('open', 'active', 'in progress', 'on hold') THEN 'open'
        END AS status_says
    FROM cells
)
