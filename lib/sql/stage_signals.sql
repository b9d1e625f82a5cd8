-- What each column of the export that speaks to a deal's status says about each stage's deals:
-- per stage and signal (the field's key), how many deals it calls open, closed, won or lost.
-- export_status is the status the export states (stated_status.sql), "unstated" where it states
-- none: the status the figures give those deals then comes from the stage's rule.
-- Reads stated (stated_status.sql).
SELECT stage, signal, says, count(*) AS deals
FROM (
    UNPIVOT (
        SELECT
            stage,
            coalesce(stated_status, 'unstated') AS export_status,
            CASE is_closed WHEN TRUE THEN 'closed' WHEN FALSE THEN 'open' END AS is_closed,
            -- IsWon false says nothing: an open deal is not won either.
            CASE WHEN is_won THEN 'won' END AS is_won,
            status_says AS status,
            CASE
                WHEN probability = 0 THEN 'lost'
                WHEN probability = 1 THEN 'won'
                WHEN probability IS NOT NULL THEN 'open'
            END AS probability,
            CASE WHEN loss_reason IS NOT NULL THEN 'lost' END AS loss_reason,
            CASE WHEN won_date IS NOT NULL THEN 'won' END AS won_date,
            CASE WHEN lost_date IS NOT NULL THEN 'lost' END AS lost_date,
            CASE WHEN actual_close_date IS NOT NULL THEN 'closed' END AS actual_close_date
        FROM stated
        WHERE stage IS NOT NULL
    ) ON COLUMNS(* EXCLUDE (stage)) INTO NAME signal VALUE says
)
GROUP BY ALL
ORDER BY ALL
