-- Occurrences that lie in no sector get one of the sector versions :ids (just written or
-- extended) if it was valid on their local day (:tz). On a border shared by two sectors,
-- the smaller code, as at import. Returns nothing; the row count is the number attributed.
UPDATE occurrence o
SET sector_id = found.id, csp_id = found.csp_id
FROM (
    SELECT DISTINCT ON (o2.id) o2.id AS occurrence_id, sc.id, sc.csp_id
    FROM occurrence o2
    JOIN sector sc ON sc.id = ANY (CAST(:ids AS integer[])) AND ST_Intersects(sc.geom, o2.geom)
    WHERE o2.sector_id IS NULL
      AND sc.valid_during @> (o2.occurred_at AT TIME ZONE :tz)::date
    ORDER BY o2.id, sc.code
) AS found
WHERE o.id = found.occurrence_id
