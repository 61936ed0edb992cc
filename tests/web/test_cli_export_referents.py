"""``psq export referents|cameras|conventions``: each format writes a file geopandas reads back; each export
is written to the audit log."""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa

from geo.referents.conventions import load_contracts, load_conventions
from geo.referents.referents import load_referents


@pytest.fixture
def records(engine, territory, tmp_path):
    (tmp_path / "r.csv").write_text("name;kind;service;lat;lon;communes\n"
                                    "Capitaine Arnaud;referent;DDSP 90;47.6386;6.8628;90010 90008\n", encoding="utf-8")
    load_referents(engine, tmp_path / "r.csv")
    (tmp_path / "c.csv").write_text("commune,signed_on,volunteers\n90010,2023-12-20,14\n", encoding="utf-8")
    load_conventions(engine, tmp_path / "c.csv")
    (tmp_path / "k.csv").write_text("name,communes,signed_on,cameras,supervision_centre\n"
                                    "CSI du Grand Belfort,90010 90008,2022-04-01,45,oui\n", encoding="utf-8")
    load_contracts(engine, tmp_path / "k.csv")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO camera (source, external_id, geom, bearing, fov, range_m, status, owner, commune_insee) "
            "VALUES ('test', 'C1', ST_Transform(ST_SetSRID(ST_MakePoint(6.8628, 47.6386), 4326), 2154), 90, 60, 50, "
            "'existing', 'commune', '90010')"))


@pytest.mark.parametrize("what", ["referents", "cameras", "conventions"])
@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_each_format_writes_a_readable_file(psq, engine, records, tmp_path, what, fmt):
    out = tmp_path / f"{what}.{fmt}"
    result = psq("export", what, "--format", fmt, "-o", out)
    assert result.exit_code == 0, result.output
    expected = {"referents": 1, "cameras": 1, "conventions": 2}[what]
    assert f"{expected} {what} written to {out}." in result.output
    if fmt == "csv":
        frame = pd.read_csv(out, dtype=str)
        assert frame["geometry"].str.match(r"^(POINT|MULTIPOLYGON)").all()
    else:
        frame = gpd.read_file(out)
        assert frame.crs.to_epsg() == (2154 if fmt == "gpkg" else 4326)
    assert len(frame) == expected
    if what == "referents":
        row = frame.iloc[0]
        assert (row["name"], row["communes"], int(row["commune_count"])) == ("Capitaine Arnaud", "90008 90010", 2)
    elif what == "cameras":
        row = frame.iloc[0]
        assert (float(row["bearing"]), float(row["fov"]), row["status"], row["commune"]) == (
            90.0, 60.0, "existing", "Belfort")
    else:
        kinds = dict(zip(frame["type"], frame["name"]))
        assert kinds == {"participation_citoyenne": "Belfort", "csi": "CSI du Grand Belfort"}
        assert set(frame["signed_on"].astype(str)) == {"2023-12-20", "2022-04-01"}
        assert set(frame["next_on"].astype(str)) >= {"2027-04-01"}  # the CSI's end
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT action, details->>'format' FROM audit_log "
                                    "WHERE action LIKE 'export.%'")).one() == (f"export.{what}", fmt)


def test_geojson_goes_to_stdout_and_a_gpkg_needs_a_file(psq, records):
    result = psq("export", "conventions")
    assert result.exit_code == 0
    frame = gpd.read_file(io.BytesIO(result.stdout_bytes))
    assert sorted(frame["type"]) == ["csi", "participation_citoyenne"]
    refused = psq("export", "referents", "--format", "gpkg")
    assert refused.exit_code == 2 and "-o FILE" in refused.output
