"""SQLAlchemy + GeoAlchemy2 models of the schema built by sql/migrations/.

The migrations are the source of truth for the database; these classes mirror them
for queries and writes in Python (tests/test_schema.py checks that both agree).
All geometry is Lambert-93, EPSG:2154.
"""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Date, DateTime, Float, ForeignKey, Index, Integer, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SRID = 2154


class Base(DeclarativeBase):
    pass


def _geometry(kind: str) -> Geometry:
    # Index names follow the migrations; GeoAlchemy2 must not invent its own.
    return Geometry(kind, srid=SRID, spatial_index=False)


class Departement(Base):
    __tablename__ = "departement"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    srid: Mapped[int] = mapped_column(Integer, server_default="2154")


class Epci(Base):
    __tablename__ = "epci"

    siren: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(Text)


class Commune(Base):
    __tablename__ = "commune"
    __table_args__ = (Index("commune_departement_idx", "departement_code"),)

    insee: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"))
    epci_siren: Mapped[str | None] = mapped_column(ForeignKey("epci.siren"))
    population: Mapped[int | None] = mapped_column(Integer)
    area_km2: Mapped[float] = mapped_column(Float, comment=(
        "Geodesic area on the GRS80 ellipsoid, not the Lambert-93 planar area (which is off by up to 0.3 %)."))
    geom = mapped_column(_geometry("MULTIPOLYGON"), nullable=False)
    town_hall = mapped_column(_geometry("POINT"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Csp(Base):
    """A circonscription de sécurité publique (or a gendarmerie company)."""

    __tablename__ = "csp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departement.code"))
    zone: Mapped[str] = mapped_column(Text, server_default="police")

    sectors: Mapped[list["Sector"]] = relationship(back_populates="csp")


class Sector(Base):
    """One version of a secteur de proximité; valid_to is exclusive, NULL = current."""

    __tablename__ = "sector"
    __table_args__ = (CheckConstraint("valid_to IS NULL OR valid_to > valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id"))
    code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    chief: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(_geometry("MULTIPOLYGON"), nullable=False)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(
        Date, comment="Exclusive end of validity; NULL for the current version.")
    source: Mapped[str | None] = mapped_column(Text)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    csp: Mapped[Csp] = relationship(back_populates="sectors")
