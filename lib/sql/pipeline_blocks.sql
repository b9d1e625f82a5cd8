-- Each rep's open pipeline as blocks for the warnings page's chart: the $largest deals one by
-- one, the rest as one block (name NULL), so that the chart stays readable (and small) however
-- many deals a rep has.
SELECT owner, name, account, amount, deals
FROM (
    SELECT owner,
        CASE WHEN rank <= $largest THEN name END AS name,
        CASE WHEN rank <= $largest THEN account END AS account,
        sum(value) AS amount,
        count(*) AS deals,
        min(rank) AS first_rank
    FROM (
        SELECT owner, coalesce(name, opportunity_id) AS name, account,
            coalesce(amount, 0)::DOUBLE AS value,
            row_number() OVER (
                PARTITION BY owner ORDER BY coalesce(amount, 0) DESC, opportunity_id
            ) AS rank
        FROM open_opportunities
        WHERE close_date IS NULL OR close_date >= $period_start
    )
    GROUP BY owner, CASE WHEN rank <= $largest THEN rank END,
        CASE WHEN rank <= $largest THEN name END, CASE WHEN rank <= $largest THEN account END
)
ORDER BY owner, first_rank
