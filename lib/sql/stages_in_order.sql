-- Each stage of the export, how many deals it holds and the status the export states for them,
-- in the order of the sales process. Reads stated (stated_status.sql).
-- The status an export states (IsWon / IsClosed, a Status column) decides a stage's status.
-- Stages nothing else explains are ordered by the probability the export gives, then by how
-- long their deals have been open: later stages hold older deals. A stage that holds a deal
-- the export states open is an open stage, even when most of its deals were won there
-- (Pipedrive keeps a won deal in its last stage): its open deals need a stage probability.
SELECT stage, count(*) AS deals,
    CASE WHEN bool_or(stated_status = 'open') THEN 'open' ELSE mode(stated_status) END
        AS stated_status
FROM stated
WHERE stage IS NOT NULL
GROUP BY stage
ORDER BY median(probability) NULLS LAST, median(close_date - created_date) NULLS LAST, stage
