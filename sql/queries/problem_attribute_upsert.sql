-- Upsert the staged problems of one import, attributed through a point on their
-- surface to the sector valid on the day they were reported (and its CSP), the
-- commune and its EPCI. Unchanged rows are left alone; a changed status is recorded
-- as a dated transition (the lifecycle was checked before). Returns the rows written.
WITH staged AS (
    SELECT st.*, ST_PointOnSurface(st.geom) AS anchor FROM problem_staging st
), previous AS (
    SELECT p.external_id, p.status FROM problem p
    WHERE p.source = :source AND p.external_id IN (SELECT external_id FROM staged)
), written AS (
    INSERT INTO problem AS p (source, external_id, category_code, title, description, geom, sector_id,
                              commune_insee, csp_id, epci_siren, partner, status, reported_on,
                              status_changed_at, import_id)
    SELECT :source, s.external_id, s.category, s.title, s.description, s.geom, sec.id, com.insee,
           sec.csp_id, com.epci_siren, s.partner, s.status, s.reported_on, (s.reported_on::timestamp AT TIME ZONE :tz), :batch
    FROM staged s
    LEFT JOIN LATERAL (
        SELECT sc.id, sc.csp_id FROM sector_part sp JOIN sector sc ON sc.id = sp.sector_id
        WHERE ST_Intersects(sp.geom, s.anchor)
          AND sc.valid_during @> s.reported_on
        ORDER BY sc.code LIMIT 1
    ) sec ON true
    LEFT JOIN LATERAL (
        SELECT c.insee, c.epci_siren FROM commune_part cp JOIN commune c ON c.insee = cp.insee
        WHERE ST_Intersects(cp.geom, s.anchor)
        ORDER BY c.insee LIMIT 1
    ) com ON true
    ON CONFLICT (source, external_id) DO UPDATE SET
        category_code = excluded.category_code, title = excluded.title, description = excluded.description,
        geom = excluded.geom, sector_id = excluded.sector_id, commune_insee = excluded.commune_insee,
        csp_id = excluded.csp_id, epci_siren = excluded.epci_siren, partner = excluded.partner,
        status = excluded.status, reported_on = excluded.reported_on,
        status_changed_at = CASE WHEN p.status = excluded.status THEN p.status_changed_at ELSE now() END,
        import_id = excluded.import_id
    WHERE (p.category_code, p.title, p.description, p.partner, p.status, p.reported_on)
              IS DISTINCT FROM
          (excluded.category_code, excluded.title, excluded.description, excluded.partner, excluded.status,
           excluded.reported_on)
       OR NOT ST_Equals(p.geom, excluded.geom)
    RETURNING p.id, p.external_id, p.status, p.reported_on, p.sector_id, (xmax = 0) AS added
), transitions AS (
    INSERT INTO problem_status_change (problem_id, from_status, to_status, changed_at, note)
    SELECT w.id, prev.status, w.status,
           CASE WHEN prev.status IS NULL THEN (w.reported_on::timestamp AT TIME ZONE :tz) ELSE now() END,
           'import'
    FROM written w LEFT JOIN previous prev ON prev.external_id = w.external_id
    WHERE prev.status IS DISTINCT FROM w.status
)
SELECT id, external_id, sector_id, added FROM written
