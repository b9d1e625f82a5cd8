-- What was loaded, in figures: deals and amounts by status, the close-date range, how many
-- owners, the open deals lacking a close date, and the deals of each status lacking an amount
-- (none in the export, or in a currency without a rate). Reads opportunities.
SELECT
    count(*) FILTER (status = 'won') AS deals_won,
    count(*) FILTER (status = 'lost') AS deals_lost,
    count(*) FILTER (status = 'open') AS deals_open,
    coalesce(sum(amount) FILTER (status = 'won'), 0) AS amount_won,
    coalesce(sum(amount) FILTER (status = 'lost'), 0) AS amount_lost,
    coalesce(sum(amount) FILTER (status = 'open'), 0) AS amount_open,
    min(close_date) AS close_date_min,
    max(close_date) AS close_date_max,
    count(DISTINCT owner) AS owners,
    count(*) FILTER (status = 'open' AND close_date IS NULL) AS open_without_close_date,
    count(*) FILTER (status = 'open' AND amount IS NULL) AS open_without_amount,
    count(*) FILTER (status = 'won' AND amount IS NULL) AS won_without_amount,
    count(*) FILTER (status = 'lost' AND amount IS NULL) AS lost_without_amount
FROM opportunities
