-- Close-date pushes per loaded deal from OpportunityHistory changes made on or before $as_of,
-- in the columns of snapshot pushes (lib/changes.py push_counts). Reads history
-- (flagged_history.sql's rows) and deals.
SELECT
    d.opportunity_id, d.name, d.account, d.owner, d.status,
    count(*) FILTER (h.pushed)::INTEGER AS pushes,
    first(coalesce(h.close_date_before, h.close_date) ORDER BY h.changed_at)
        AS first_close_date,
    d.close_date
FROM history AS h
JOIN deals AS d USING (opportunity_id)
WHERE h.changed_on <= $as_of
GROUP BY ALL
HAVING pushes > 0
ORDER BY pushes DESC, d.owner, d.name, d.opportunity_id
