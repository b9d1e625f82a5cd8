-- Each row's cells (cells: every field read from its raw column, lib/load/classify.py) with the
-- status the export states: IsWon and IsClosed first, then the words of a Status column
<<<<<<< HEAD
-- (status_says, which stage_signals.sql also reads).
=======
-- (monday.com's sales board says Dead for lost, On Hold for a deal still open).
>>>>>>> values
-- Without a stage column the stated status ("won", "open") stands in as the stage.
SELECT * REPLACE (coalesce(stage, status) AS stage),
    CASE
        WHEN is_won THEN 'won'
        WHEN is_closed THEN 'lost'
        WHEN is_closed = FALSE THEN 'open'
<<<<<<< HEAD
        ELSE status_says
=======
        WHEN lower(status) IN ('won', 'closed won', 'closedwon') THEN 'won'
        WHEN lower(status) IN ('lost', 'closed lost', 'closedlost', 'dead') THEN 'lost'
        WHEN lower(status) IN ('open', 'active', 'in progress', 'on hold') THEN 'open'
>>>>>>> values
    END AS stated_status
FROM (
    SELECT *,
        CASE
            WHEN lower(status) IN ('won', 'closed won', 'closedwon') THEN 'won'
            WHEN lower(status) IN ('lost', 'closed lost', 'closedlost') THEN 'lost'
            WHEN lower(status) IN ('open', 'active', 'in progress') THEN 'open'
        END AS status_says
    FROM cells
)
