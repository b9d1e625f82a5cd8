-- Each target's share of the period: periods start on the first of a month, so the overlap in
-- whole months splits a quarter target evenly into months and sums monthly targets to quarters.
-- Reads targets; the period is [$start, $end].
SELECT owner, sum(amount * overlap_months / period_months) AS budget
FROM (
    SELECT
        owner,
        amount,
        date_diff('month', period_start, period_end + 1) AS period_months,
        date_diff('month', greatest(period_start, $start), least(period_end, $end) + 1)
            AS overlap_months
    FROM targets
)
WHERE overlap_months > 0
GROUP BY owner
