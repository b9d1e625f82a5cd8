-- Each rep's open pipeline in figures, for the pipeline warnings: its total and concentration,
-- the largest deal, what has gone quiet, and what closes this quarter and next. Deals are
-- named largest first, only the few a message names (min_by keeps just those as it reads). The
-- IDs of every deal behind a figure are listed only when $with_ids asks (the JSON report): at a
-- million deals, converting them cost more than the rest of the query.
-- Open pipeline (PRODUCT.md): open deals closing in or after the period, or with no close
-- date; a deal with no activity recorded counts as quiet since it was created.
WITH pipeline AS (
    SELECT
        owner,
        opportunity_id,
        {'opportunity_id': opportunity_id, 'name': coalesce(name, opportunity_id),
         'account': account, 'amount': coalesce(amount, 0)::DOUBLE} AS deal,
        coalesce(amount, 0)::DOUBLE AS value,
        coalesce(probability, 0) AS probability,
        close_date,
        $as_of - coalesce(last_activity_date, created_date) AS quiet_days
    FROM open_opportunities
    WHERE close_date IS NULL OR close_date >= $period_start
),
flagged AS (
    SELECT
        *,
        coalesce(quiet_days >= $gone_dark_days, FALSE) AS dark,
        coalesce(probability >= $chase_probability AND quiet_days >= $chase_days, FALSE)
            AS chased,
        coalesce(close_date BETWEEN $period_start AND $period_end, FALSE) AS closing,
        coalesce(close_date BETWEEN $next_start AND $next_end, FALSE) AS closing_next
    FROM pipeline
)
SELECT
    owner,
    sum(value) AS total,
    coalesce(sum(value * value) FILTER (value > 0), 0) AS sum_of_squares,
    max_by(deal, (value, opportunity_id)) AS largest,
    coalesce(sum(value) FILTER (dark), 0) AS dark_amount,
    min_by(deal, (-value, opportunity_id), $named) FILTER (dark) AS dark_deals,
    count(*) FILTER (dark) AS dark_count,
    list(opportunity_id ORDER BY value DESC, opportunity_id) FILTER (dark AND $with_ids)
        AS dark_ids,
    min_by(deal, (-value, opportunity_id), $named) FILTER (chased) AS chased_deals,
    count(*) FILTER (chased) AS chased_count,
    list(opportunity_id ORDER BY value DESC, opportunity_id) FILTER (chased AND $with_ids)
        AS chased_ids,
    coalesce(sum(value) FILTER (chased), 0) AS chased_amount,
    coalesce(sum(value) FILTER (closing), 0) AS closing_amount,
    count(*) FILTER (closing) AS closing_count,
    list(opportunity_id ORDER BY value DESC, opportunity_id) FILTER (closing AND $with_ids)
        AS closing_ids,
    coalesce(sum(value) FILTER (closing_next), 0) AS next_amount,
    count(*) FILTER (closing_next) AS next_count,
    list(opportunity_id ORDER BY value DESC, opportunity_id) FILTER (closing_next AND $with_ids)
        AS next_ids
FROM flagged
GROUP BY owner
ORDER BY owner
