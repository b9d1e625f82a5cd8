-- Each row's cells (cells: every field read from its raw column, lib/load/classify.py) with the
-- status the export states: IsWon and IsClosed first, then the words of a Status column.
-- Without a stage column the stated status ("won", "open") stands in as the stage.
SELECT * REPLACE (coalesce(stage, status) AS stage),
    CASE
        WHEN is_won THEN 'won'
        WHEN is_closed THEN 'lost'
        WHEN is_closed = FALSE THEN 'open'
        WHEN lower(status) IN ('won', 'closed won', 'closedwon') THEN 'won'
        WHEN lower(status) IN ('lost', 'closed lost', 'closedlost') THEN 'lost'
        WHEN lower(status) IN ('open', 'active', 'in progress') THEN 'open'
    END AS stated_status
FROM cells
