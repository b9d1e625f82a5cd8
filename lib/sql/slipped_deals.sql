-- Each rep's open deals whose close date is before the as-of date: how many, how much, the
-- largest few (the ones a message names) and, when $with_ids asks, every ID, largest first.
-- The named deals are the first few by min_by(…, $named), which keeps only those as it reads;
-- a sorted list of every deal, then cut, took twice as long at a million deals.
SELECT owner, count(*) AS count, sum(coalesce(amount, 0))::DOUBLE AS amount,
    min_by({'opportunity_id': opportunity_id, 'name': coalesce(name, opportunity_id),
            'account': account, 'amount': coalesce(amount, 0)::DOUBLE},
           (-coalesce(amount, 0), opportunity_id), $named) AS largest,
    list(opportunity_id ORDER BY coalesce(amount, 0) DESC, opportunity_id)
        FILTER ($with_ids) AS ids
FROM open_opportunities
WHERE close_date < $as_of
GROUP BY owner
