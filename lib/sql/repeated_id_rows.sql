-- Usable rows whose opportunity ID an earlier usable row has. The IDs are grouped by their
-- 64-bit hash first, which is small to hold, and only the rows whose hash repeats (almost always
-- a repeated ID) are grouped by the ID itself: grouping a million IDs as text held 126 MB more
-- at the peak of a load, their hashes 42 MB.
-- Reads checked: every row of the load, classified, with why it is rejected (NULL when kept).
WITH repeated_hashes AS (
    SELECT hash(opportunity_id) AS id_hash
    FROM checked
    WHERE has_id AND reject_reason IS NULL
    GROUP BY id_hash
    HAVING count(*) > 1
),
candidates AS (
    SELECT source_row, opportunity_id
    FROM checked
    WHERE has_id AND reject_reason IS NULL
        AND hash(opportunity_id) IN (SELECT id_hash FROM repeated_hashes)
),
repeated AS (
    SELECT opportunity_id, min(source_row) AS first_row
    FROM candidates
    GROUP BY opportunity_id
    HAVING count(*) > 1
)
SELECT candidates.source_row
FROM candidates JOIN repeated USING (opportunity_id)
WHERE candidates.source_row > repeated.first_row
