-- One row per rep who owns a deal: team, manager, deal counts, open and won amounts.
-- Reads opportunities.
SELECT
    owner,
    any_value(team) AS team,
    any_value(manager) AS manager,
    count(*) AS deals,
    count(*) FILTER (status = 'open') AS open_deals,
    coalesce(sum(amount) FILTER (status = 'open'), 0) AS open_amount,
    coalesce(sum(amount) FILTER (status = 'won'), 0) AS won_amount
FROM opportunities
GROUP BY owner
ORDER BY owner
