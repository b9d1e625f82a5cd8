-- Each rep's open deals stalled in their stage (lib/stage_history.py stage_days: in it for
-- `stalled_ratio` times its median days or longer): how many, how much, the largest few (the
-- ones a message names) and, when $with_ids asks, every ID, largest first.
SELECT owner, count(*) AS count, sum(coalesce(amount, 0))::DOUBLE AS amount,
    min_by({'opportunity_id': opportunity_id, 'name': coalesce(name, opportunity_id),
            'account': account, 'amount': coalesce(amount, 0)::DOUBLE},
           (-coalesce(amount, 0), opportunity_id), $named) AS largest,
    list(opportunity_id ORDER BY coalesce(amount, 0) DESC, opportunity_id)
        FILTER ($with_ids) AS ids
FROM open_opportunities
WHERE opportunity_id IN (SELECT opportunity_id FROM stage_days WHERE stalled)
GROUP BY owner
