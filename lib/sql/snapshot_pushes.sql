-- Close-date pushes per deal over saved snapshots, for the deals of the latest snapshot pushed at
-- least once: a push is a snapshot where an open deal's close date is later than at the one
-- before. Reads keyed_history: every snapshot's deals (as_of, opportunity_id, name, account,
-- owner, status, close_date), each with the key it is matched by from one to the next (deal_key,
-- lib/changes.py).
WITH steps AS (
    SELECT *,
        lag(status) OVER by_deal AS status_before,
        lag(close_date) OVER by_deal AS close_date_before
    FROM keyed_history
    WINDOW by_deal AS (PARTITION BY deal_key ORDER BY as_of)
)
SELECT
    first(opportunity_id ORDER BY as_of DESC) AS opportunity_id,
    first(name ORDER BY as_of DESC) AS name,
    first(account ORDER BY as_of DESC) AS account,
    first(owner ORDER BY as_of DESC) AS owner,
    first(status ORDER BY as_of DESC) AS status,
    count(*) FILTER (
        status_before = 'open' AND status = 'open' AND close_date > close_date_before
    )::INTEGER AS pushes,
    first(close_date ORDER BY as_of) AS first_close_date,
    first(close_date ORDER BY as_of DESC) AS close_date
FROM steps
GROUP BY deal_key
HAVING max(as_of) = (SELECT max(as_of) FROM keyed_history) AND pushes > 0
ORDER BY pushes DESC, owner, name, opportunity_id
