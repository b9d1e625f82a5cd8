-- Won bookings, last year's bookings at the same day, and the in-period open pipeline by
-- forecast category, per rep. Open deals whose close date fell before the period are slipped,
-- not pipeline; overdue deals inside the period still count.
-- Reads opportunities; the period is [$start, $end], counted through $to_date, and last year's
-- [$ly_start, $ly_to_date].
SELECT
    owner,
    coalesce(sum(amount) FILTER (
        status = 'won' AND close_date BETWEEN $start AND $to_date), 0) AS closed_to_date,
    coalesce(sum(amount) FILTER (
        status = 'won' AND close_date BETWEEN $ly_start AND $ly_to_date), 0)
        AS last_year_to_date,
    coalesce(sum(amount * probability) FILTER (
        status = 'open' AND close_date BETWEEN $start AND $end), 0) AS open_weighted,
    coalesce(sum(amount) FILTER (
        status = 'open' AND close_date BETWEEN $start AND $end
        AND forecast_category = 'Commit'), 0) AS open_commit,
    coalesce(sum(amount) FILTER (
        status = 'open' AND close_date BETWEEN $start AND $end
        AND forecast_category = 'Best Case'), 0) AS open_best_case
FROM opportunities
GROUP BY owner
