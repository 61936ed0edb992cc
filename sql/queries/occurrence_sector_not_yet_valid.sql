-- Of the occurrences of the latest import of :source that got no sector, those inside a
-- sector version of another time (none was valid on their local day): how many, their first
-- and last local day, and the earliest start of the sectors they lie in.
SELECT count(*) AS n,
       min((o.occurred_at AT TIME ZONE :tz)::date) AS first_day,
       max((o.occurred_at AT TIME ZONE :tz)::date) AS last_day,
       min(s.first_from) AS sectors_from
FROM occurrence o
CROSS JOIN LATERAL (
    SELECT min(sc.valid_from) AS first_from FROM sector sc WHERE ST_Intersects(sc.geom, o.geom)
) s
WHERE o.import_id = (SELECT max(id) FROM import_batch WHERE kind = 'occurrences' AND source = :source)
  AND o.sector_id IS NULL
  AND s.first_from IS NOT NULL
