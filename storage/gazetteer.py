"""The reference gazetteer: airports from `airportsdata` (those with an IATA code), countries
from `pycountry`, cities derived from the airports' (city, country) pairs. Pure functions,
plus `seed`: the data step `storage.migrate.upgrade` runs after the schema migrations, which
loads `reference_rows()` into the reference tables. The Location Service folds its queries
with `fold` so both sides compare the same keys."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from storage.db import Base, UTCDateTime, utcnow
from storage.models import places  # noqa: F401  (registers the reference tables seed writes)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# Codes in use for airports that ISO 3166 leaves to users (Kosovo).
EXTRA_COUNTRIES = {"XK": ("XKX", "Kosovo")}
_APOSTROPHES = re.compile(r"['\u2019`]")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower case, accents dropped, punctuation to single spaces: 'São  Paulo/Congonhas' ->
    'sao paulo congonhas'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NON_WORD.sub(" ", _APOSTROPHES.sub("", text.lower())).strip()


def slug(text: str) -> str:
    return fold(text).replace(" ", "-")


def city_id(country: str, name: str) -> str:
    return f"city:{country}:{slug(name)}"


def _countries() -> dict[str, dict[str, Any]]:
    import pycountry  # here: its data loads only when the rows are built

    out = {c.alpha_2: {"code": c.alpha_2, "alpha3": c.alpha_3, "name": c.name,
                       "official_name": getattr(c, "official_name", None)} for c in pycountry.countries}
    for code, (alpha3, name) in EXTRA_COUNTRIES.items():
        out.setdefault(code, {"code": code, "alpha3": alpha3, "name": name, "official_name": None})
    return out


def reference_rows() -> dict[str, list[dict[str, Any]]]:
    """Rows for the tables countries, cities, airports and locations (the search index)."""
    import airportsdata  # here: its data loads only when the rows are built

    airports = [a for a in airportsdata.load("IATA").values() if a["iata"]]
    countries = _countries()
    by_city: dict[str, list[Any]] = defaultdict(list)  # airportsdata.Airport rows
    for a in airports:
        if a["city"] and a["country"] in countries and slug(a["city"]):
            by_city[city_id(a["country"], a["city"])].append(a)

    cities = []
    for cid, members in by_city.items():
        name = Counter(a["city"] for a in members).most_common(1)[0][0]
        cities.append({"id": cid, "country": members[0]["country"], "name": name,
                       "lat": round(sum(a["lat"] for a in members) / len(members), 5),
                       "lon": round(sum(a["lon"] for a in members) / len(members), 5),
                       "tz": Counter(a["tz"] for a in members).most_common(1)[0][0],
                       "airport_count": len(members)})
    city_of = {id(a): c["id"] for c in cities for a in by_city[c["id"]]}
    city_size = {c["id"]: c["airport_count"] for c in cities}

    zones: dict[str, set[str]] = defaultdict(set)
    for a in airports:
        zones[a["country"]].add(a["tz"])
    country_rows = [{**c, "tz": next(iter(zones[code])) if len(zones[code]) == 1 else None}
                    for code, c in sorted(countries.items())]
    airport_rows = [{"iata": a["iata"], "icao": a["icao"] or None, "name": a["name"], "city": a["city"] or None,
                     "city_id": city_of.get(id(a)), "country": a["country"], "subdivision": a["subd"] or None,
                     "lat": a["lat"], "lon": a["lon"], "tz": a["tz"], "elevation_ft": a["elevation"]}
                    for a in airports if a["country"] in countries]
    return {"countries": country_rows, "cities": cities, "airports": airport_rows,
            "locations": _index(country_rows, cities, airport_rows, city_size)}


def _index(countries, cities, airports, city_size) -> list[dict[str, Any]]:
    """One row per place for search and resolve. `weight` orders equally good matches:
    big cities (many airports) first, then their airports; countries above both."""
    cname = {c["code"]: c["name"] for c in countries}

    def row(id_, kind, name, *, code=None, alt=None, country, city_id=None, lat=None, lon=None, tz=None,
            city="", extra="", weight=0):
        return {"id": id_, "kind": kind, "name": name, "code": code, "alt_code": alt, "country": country,
                "city_id": city_id, "lat": lat, "lon": lon, "tz": tz, "name_key": fold(name),
                "city_key": fold(city) or None, "weight": weight,
                "terms": " " + " ".join(filter(None, [fold(name), fold(city), fold(extra), fold(cname[country])]))}

    rows = [row(f"ctry:{c['code']}", "country", c["name"], code=c["code"], alt=c["alpha3"], country=c["code"],
                tz=c["tz"], extra=c["official_name"] or "", weight=1000) for c in countries]
    rows += [row(c["id"], "city", c["name"], country=c["country"], lat=c["lat"], lon=c["lon"], tz=c["tz"],
                 weight=20 * c["airport_count"]) for c in cities]
    rows += [row(f"apt:{a['iata']}", "airport", a["name"], code=a["iata"], alt=a["icao"], country=a["country"],
                 city_id=a["city_id"], lat=a["lat"], lon=a["lon"], tz=a["tz"], city=a["city"] or "",
                 extra=a["subdivision"] or "",
                 weight=10 * city_size.get(a["city_id"], 0) + (5 if "international" in a["name"].lower() else 0))
             for a in airports]
    return rows


# --- The data step ---------------------------------------------------------------------------
# Bump DATA_FORMAT whenever reference_rows() would give other rows for the same airportsdata and
# pycountry (new fold rules, weights, columns): the next upgrade then reloads the tables.
DATA_FORMAT = 1
REFERENCE_TABLES = ("countries", "cities", "airports", "locations")
MARKER_TABLE = "reference_data"  # bookkeeping of the data step, like alembic_version for the schema
_MARKER = sa.Table(MARKER_TABLE, sa.MetaData(),
                   sa.Column("name", sa.String(32), primary_key=True),
                   sa.Column("version", sa.String(200), nullable=False),
                   sa.Column("loaded_at", UTCDateTime(timezone=True), nullable=False))
_BATCH = 5000


def data_version() -> str:
    """What the shipped data is, without loading it: the row format and the package versions."""
    return f"format {DATA_FORMAT}; airportsdata {version('airportsdata')}; pycountry {version('pycountry')}"


def seed(conn: Connection) -> bool:
    """Load `reference_rows()` into countries, cities, airports and locations, replacing what
    they hold, unless the marker row says they already hold `data_version()` and none is empty.
    The check is a handful of one-row queries. Runs on a database at the head revision (the
    rows are written through the current models) and commits; True when it (re)loaded.

    A database whose tables were filled by the old revision 0002 has no marker: it is
    reloaded once, in one transaction, and marked."""
    tables = {name: Base.metadata.tables[name] for name in REFERENCE_TABLES}
    shipped = data_version()
    _MARKER.create(conn, checkfirst=True)
    loaded = conn.execute(sa.select(_MARKER.c.version).where(_MARKER.c.name == "gazetteer")).scalar()
    if loaded == shipped and all(conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()
                                 for t in tables.values()):
        conn.commit()
        return False
    rows = reference_rows()
    for table in tables.values():
        conn.execute(table.delete())
    for name, table in tables.items():
        for start in range(0, len(rows[name]), _BATCH):
            conn.execute(table.insert(), rows[name][start:start + _BATCH])
    conn.execute(_MARKER.delete().where(_MARKER.c.name == "gazetteer"))
    conn.execute(_MARKER.insert().values(name="gazetteer", version=shipped, loaded_at=utcnow()))
    conn.commit()
    return True
