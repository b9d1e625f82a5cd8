-- Each rep's open deals whose close date was pushed at least $min_pushes times (push_counts,
-- counted over saved snapshots or an export's history), the most pushed first: how many, how
-- much, the few a message names and, when $with_ids asks, every ID. p.pushes is qualified: an
-- export may have a column of its own called Pushes.
SELECT owner, count(*) AS count, sum(coalesce(amount, 0))::DOUBLE AS amount,
    min_by({'opportunity_id': opportunity_id, 'name': coalesce(name, opportunity_id),
            'account': account, 'amount': coalesce(amount, 0)::DOUBLE},
           (-p.pushes, -coalesce(amount, 0), opportunity_id), $named) AS largest,
    list(opportunity_id ORDER BY p.pushes DESC, coalesce(amount, 0) DESC, opportunity_id)
        FILTER ($with_ids) AS ids
FROM open_opportunities
JOIN (SELECT opportunity_id, pushes FROM push_counts) AS p USING (opportunity_id)
WHERE p.pushes >= $min_pushes
GROUP BY owner
