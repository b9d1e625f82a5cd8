-- The quarter's in-period open deals by weighted amount: the largest three and the total. The
-- three come from ORDER BY … LIMIT, which keeps only the best three as it reads, where a sorted
-- list of every deal sorted them all.
WITH in_period AS (
    SELECT opportunity_id, name, account, amount,
        coalesce(amount, 0)::DOUBLE * coalesce(probability, 0) AS weighted
    FROM open_opportunities
    WHERE close_date BETWEEN $start AND $end
),
top AS (
    SELECT * FROM in_period ORDER BY weighted DESC, opportunity_id LIMIT 3
)
SELECT
    (SELECT list({'opportunity_id': opportunity_id, 'name': coalesce(name, opportunity_id),
                  'account': account, 'amount': coalesce(amount, 0)::DOUBLE}
                 ORDER BY weighted DESC, opportunity_id) FROM top) AS deals,
    (SELECT list(weighted ORDER BY weighted DESC, opportunity_id) FROM top) AS weighted,
    (SELECT sum(weighted) FROM in_period) AS total
