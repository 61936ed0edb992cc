-- Insert the staged occurrences of one import, attributed in one set-based pass:
-- the sector version valid on the occurrence's local day (:tz) and its CSP, the
-- commune and its EPCI, the problem it belongs to. Points on a border shared by two
-- sectors go to the one with the smaller code, so that attribution is repeatable.
-- Already loaded (source, external_id) pairs are skipped: re-imports add nothing.
-- Returns the rows written and, of those, the ones outside every sector.
WITH staged AS (
    SELECT st.*, ST_SetSRID(ST_MakePoint(st.x, st.y), 2154) AS geom,
           (st.occurred_at AT TIME ZONE :tz)::date AS local_day
    FROM occurrence_staging st
), inserted AS (
    INSERT INTO occurrence (source, external_id, category_code, occurred_at, geom, description, address,
                            problem_id, sector_id, commune_insee, csp_id, epci_siren, import_id)
    SELECT :source, s.external_id, s.category, s.occurred_at, s.geom, s.description, s.address,
           p.id, sec.id, com.insee, sec.csp_id, com.epci_siren, :batch
    FROM staged s
    LEFT JOIN problem p ON p.source = :source AND p.external_id = s.problem_external_id
    LEFT JOIN LATERAL (
        SELECT sc.id, sc.csp_id
        FROM sector_part sp JOIN sector sc ON sc.id = sp.sector_id
        WHERE ST_Intersects(sp.geom, s.geom)
          AND sc.valid_from <= s.local_day AND (sc.valid_to IS NULL OR sc.valid_to > s.local_day)
        ORDER BY sc.code
        LIMIT 1
    ) sec ON true
    LEFT JOIN LATERAL (
        SELECT c.insee, c.epci_siren
        FROM commune_part cp JOIN commune c ON c.insee = cp.insee
        WHERE ST_Intersects(cp.geom, s.geom)
        ORDER BY c.insee
        LIMIT 1
    ) com ON true
    ORDER BY s.occurred_at
    ON CONFLICT (source, external_id) DO NOTHING
    RETURNING sector_id
)
SELECT count(*) AS written, count(*) FILTER (WHERE sector_id IS NULL) AS outside
FROM inserted
