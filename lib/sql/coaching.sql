-- Each rep's coaching figures over [$start, $end], and the team's (is_team, from the grouping
-- set ()). Won and lost deals count by close date, deals created by created date, whatever their
-- status. A deal is referral-sourced when its lead source contains one of $keywords, ignoring
-- case. A won deal is repeat business when its account (names compared without case or outer
-- spaces) had a won deal, by any rep and at any time, with an earlier close date.
-- Each account's first win is read from first_wins (lib/db.py SET_APART_SQL).
-- The names this query adds are qualified: an export's own column may be called account_key.
WITH deals AS (
    SELECT
        owner,
        status,
        amount,
        close_date,
        created_date,
        status IN ('won', 'lost') AND close_date BETWEEN $start AND $end AS closed_in_window,
        created_date BETWEEN $start AND $end AS created_in_window,
        EXISTS (
            SELECT 1
            FROM unnest($keywords::VARCHAR[]) AS keyword(word)
            WHERE contains(lower(lead_source), lower(keyword.word))
        ) AS referral,
        status = 'won' AND close_date > first_wins.first_won AS repeat_business
    -- Only the deals won in the window are looked up: a window function over every deal's
    -- account took a quarter of a second at a million deals.
    FROM opportunities
    LEFT JOIN first_wins ON first_wins.account_key = CASE
        WHEN status = 'won' AND close_date BETWEEN $start AND $end THEN lower(trim(account))
    END
    -- Only the deals some figure counts: the rest of the history is not aggregated, and a rep
    -- with none of these has no row.
    WHERE status = 'open' OR created_date BETWEEN $start AND $end
        OR (status IN ('won', 'lost') AND close_date BETWEEN $start AND $end)
)
SELECT
    grouping(owner) = 1 AS is_team,
    owner,
    count(*) FILTER (status = 'won' AND closed_in_window) AS won_deals,
    count(*) FILTER (status = 'lost' AND closed_in_window) AS lost_deals,
    count(*) FILTER (created_in_window) AS deals_created,
    count(*) FILTER (created_in_window AND referral) AS referral_deals_created,
    count(*) FILTER (status = 'won' AND closed_in_window AND repeat_business)
        AS repeat_business_deals,
    avg(amount) FILTER (status = 'won' AND closed_in_window) AS avg_deal_size,
    -- A deal entered in the CRM after it closed has no cycle to measure.
    quantile_cont(close_date - created_date, 0.5) FILTER (
        status = 'won' AND closed_in_window AND created_date <= close_date
    ) AS sales_cycle_days,
    coalesce(sum(amount) FILTER (created_in_window), 0) AS pipeline_created,
    count(*) FILTER (status = 'open') AS open_deals
FROM deals
GROUP BY GROUPING SETS ((owner), ())
ORDER BY is_team, owner
