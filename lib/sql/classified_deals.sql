-- Every row of the export classified: its status, probability and forecast category, the date
-- and amount a closed deal closed at, and why it is rejected (reject_reason, NULL when it is
-- kept). Reads stated (stated_status.sql). The stage rules are lists side by side ($rule_stages,
-- $rule_statuses, $rule_probabilities, $rule_late, $rule_edited), looked up by a stage's
-- position in the first. For each parsed field mapped (amount and close date always are), the
-- text of a cell that could not be read: unread_amount, unread_close_date…
WITH ruled AS (
    SELECT *, list_position($rule_stages, stage) AS rule FROM stated
),
classified AS (
    SELECT
        * EXCLUDE (status, rule),
        -- A status the user set for a stage wins; then what the export states; then
        -- what the stage name says.
        CASE
            WHEN $rule_edited[rule] THEN $rule_statuses[rule]
            ELSE coalesce(stated_status, $rule_statuses[rule])
        END AS status,
        $rule_probabilities[rule]::DOUBLE AS stage_probability,
        coalesce($rule_late[rule], FALSE) AS late_stage
    FROM ruled
),
dated AS (
    SELECT *,
        -- A closed deal closed when it was won or lost, not on its stale expected date.
        CASE status
            WHEN 'won' THEN coalesce(won_date, actual_close_date, close_date)
            WHEN 'lost' THEN coalesce(lost_date, actual_close_date, close_date)
            ELSE close_date
        END AS real_close_date,
        CASE WHEN status = 'won' THEN coalesce(actual_amount, amount) ELSE amount END
            AS real_amount
    FROM classified
),
checked AS (
    SELECT *,
        CASE
            WHEN is_deleted THEN 'deleted in the CRM (IsDeleted = 1)'
            WHEN owner IS NULL THEN 'no owner'
            WHEN stage IS NULL THEN 'no stage'
            WHEN status <> 'open' AND real_close_date IS NULL
                THEN 'closed deal without a readable close date'
        END AS row_problem
    FROM dated
)
SELECT
    source_row,
    coalesce(opportunity_id, 'row-' || source_row) AS opportunity_id,
    stage, status,
    real_amount AS amount,
    converted_amount,
    currency,
    real_close_date AS close_date,
    created_date,
    CASE status
        WHEN 'won' THEN 1.0
        WHEN 'lost' THEN 0.0
        ELSE coalesce(probability, stage_probability)
    END AS probability,
    CASE
        WHEN status = 'won' THEN 'Closed'
        WHEN status = 'lost' THEN 'Omitted'
        WHEN forecast_category IS NOT NULL THEN forecast_category
        WHEN coalesce(probability, stage_probability) >= 0.9 THEN 'Commit'
        WHEN coalesce(probability, stage_probability) >= 0.6 THEN 'Best Case'
        ELSE 'Pipeline'
    END AS forecast_category,
    last_activity_date, late_stage,
    CASE WHEN status = 'lost' THEN loss_reason END AS loss_reason,
    name, account, owner, lead_source, type, next_step, team, manager,
    COLUMNS('^unread_'),
    checked.opportunity_id IS NOT NULL AS has_id,
    row_problem AS reject_reason
FROM checked
