-- What each earlier quarter created after its same day and won by its end: the history
-- method's expected in-period creation is their mean. Reads opportunities and earlier_quarters
-- (quarter_start, quarter_end, day).
SELECT
    q.quarter_start, q.day,
    coalesce(sum(o.amount), 0) AS created_and_won,
    count(o.opportunity_id) AS deals
FROM earlier_quarters AS q
LEFT JOIN opportunities AS o
    ON o.created_date > q.day AND o.created_date <= q.quarter_end
    AND o.status = 'won' AND o.close_date <= q.quarter_end
GROUP BY q.quarter_start, q.day
ORDER BY q.quarter_start
