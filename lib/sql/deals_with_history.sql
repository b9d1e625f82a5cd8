-- One row per loaded deal that has OpportunityHistory changes, the most pushed first, with
-- headers in the user's words. Reads history (flagged_history.sql's rows) and deals.
SELECT
    d.owner AS "Rep",
    coalesce(d.name, d.opportunity_id) AS "Deal",
    count(*) FILTER (h.pushed) AS "Close-date pushes",
    count(*) FILTER (h.regressed) AS "Stage regressions",
    count(*) FILTER (h.amount_changed) AS "Amount changes",
    count(*) AS "Changes",
    d.close_date AS "Close date now",
    d.stage AS "Stage now",
    d.status AS "Status",
    d.currency AS "Currency",
    d.opportunity_id AS "Opportunity ID"
FROM history AS h
JOIN deals AS d USING (opportunity_id)
GROUP BY ALL
ORDER BY "Close-date pushes" DESC, "Stage regressions" DESC, "Amount changes" DESC,
    d.owner, "Deal", d.opportunity_id
