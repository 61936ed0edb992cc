-- The occurrence indexes that a bulk load drops and builds again afterwards (a GiST
-- index built in one pass is several times faster than a million insertions into it).
-- Must stay identical to the ones of the migrations (tests/geo/ingest/test_occurrence_import.py
-- compares them after a bulk load).
CREATE INDEX occurrence_geom_idx ON occurrence USING gist (geom);
CREATE INDEX occurrence_occurred_at_brin ON occurrence USING brin (occurred_at);
CREATE INDEX occurrence_sector_time_idx ON occurrence (sector_id, occurred_at);
