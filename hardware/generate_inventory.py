"""Generate the IoTorino fleet: street units, schools and BLE beacons in Turin.

Deterministic (a seeded `random.Random`, stdlib only): running it again writes
byte-identical files, so the committed JSON is reproducible and reviewable.

    python hardware/generate_inventory.py            # writes into hardware/
    python hardware/generate_inventory.py --out DIR  # writes into DIR

The places are plausible, not surveyed: each of Turin's eight circoscrizioni
gets a rough bounding box, and units, schools and beacons fall inside their
district's box. Profile ids refer to hardware/profiles.yaml.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
from pathlib import Path

SEED = 1706  # the year of the siege of Turin
STREET_UNITS = 500
SCHOOLS_PER_DISTRICT = 5
BEACONS = 500
BEACON_HOSTS = 440  # distinct host units: 60 of them carry two beacons

# One UUID (v4) for the whole city fleet; iBeacon major = district, minor unique.
CITY_IBEACON_UUID = "3c1d9a5e-7b42-4f0e-9a61-2d8e5b7c4f10"
# Eddystone-UID namespace by the spec's "elided UUID" method: the UUID's first
# 4 and last 6 bytes.
CITY_EDDYSTONE_NAMESPACE = "3c1d9a5e2d8e5b7c4f10"

# Circoscrizione -> (lon_min, lon_max, lat_min, lat_max, streets): rough boxes
# around the built-up part of each district, with some of its real streets.
DISTRICTS: dict[int, tuple[float, float, float, float, tuple[str, ...]]] = {
    1: (7.662, 7.700, 45.052, 45.077, (  # Centro, Crocetta
        "Via Roma", "Via Garibaldi", "Via Po", "Corso Vittorio Emanuele II", "Via Pietro Micca",
        "Corso Re Umberto", "Via Sacchi", "Corso Galileo Ferraris", "Via Cernaia", "Via Lagrange")),
    2: (7.605, 7.660, 45.010, 45.052, (  # Santa Rita, Mirafiori Nord, Mirafiori Sud
        "Corso Orbassano", "Via Guido Reni", "Corso Sebastopoli", "Via Gorizia", "Corso Unione Sovietica",
        "Via Monte Ortigara", "Corso Siracusa", "Strada del Drosso", "Corso Cosenza", "Via Filadelfia")),
    3: (7.603, 7.660, 45.058, 45.081, (  # San Paolo, Cenisia, Pozzo Strada, Cit Turin
        "Corso Francia", "Via Di Nanni", "Corso Peschiera", "Via Frejus", "Corso Racconigi",
        "Via Monginevro", "Corso Trapani", "Via Braccini", "Corso Brunelleschi", "Corso Rosselli")),
    4: (7.615, 7.672, 45.081, 45.098, (  # San Donato, Campidoglio, Parella
        "Via San Donato", "Corso Regina Margherita", "Via Nicola Fabrizi", "Corso Svizzera",
        "Via Cibrario", "Corso Appio Claudio", "Via Pietro Cossa", "Corso Lecce")),
    5: (7.625, 7.690, 45.099, 45.128, (  # Borgo Vittoria, Madonna di Campagna, Lucento, Vallette
        "Via Chiesa della Salute", "Corso Grosseto", "Via Stradella", "Corso Potenza", "Via Pianezza",
        "Corso Cincinnato", "Via Lucento", "Corso Molise", "Via Sansovino")),
    6: (7.690, 7.735, 45.090, 45.132, (  # Barriera di Milano, Regio Parco, Barca, Falchera, Rebaudengo
        "Corso Giulio Cesare", "Via Cigna", "Corso Vercelli", "Via Bologna", "Corso Novara",
        "Via Monterosa", "Corso Taranto", "Via Botticelli", "Strada Settimo")),
    7: (7.682, 7.735, 45.068, 45.089, (  # Aurora, Vanchiglia, Sassi, Madonna del Pilone
        "Corso Regio Parco", "Via Vanchiglia", "Corso San Maurizio", "Lungo Dora Napoli",
        "Corso Casale", "Via Santa Giulia", "Corso Belgio", "Corso Tortona", "Corso Palermo")),
    8: (7.662, 7.715, 45.015, 45.052, (  # San Salvario, Cavoretto, Borgo Po, Nizza Millefonti, Lingotto
        "Via Nizza", "Via Madama Cristina", "Corso Dante", "Corso Moncalieri", "Via Ormea",
        "Corso Bramante", "Via Genova", "Corso Spezia", "Corso Unità d'Italia")),
}
# Street furniture per district, roughly by population and with the centre denser.
DISTRICT_WEIGHTS = {1: 110, 2: 136, 3: 125, 4: 97, 5: 121, 6: 103, 7: 88, 8: 127}
STREET_PROFILES = {"street-full": 0.40, "street-air": 0.35, "street-noise": 0.25}

# Points of interest a beacon near them points to: content id -> (lon, lat).
POINTS_OF_INTEREST = {
    "poi-museo-egizio": (7.6843, 45.0684),
    "poi-mole-antonelliana": (7.6931, 45.0690),
    "poi-palazzo-reale": (7.6858, 45.0727),
    "poi-piazza-san-carlo": (7.6830, 45.0677),
    "poi-porta-palazzo": (7.6838, 45.0766),
    "poi-parco-del-valentino": (7.6862, 45.0541),
    "poi-borgo-medievale": (7.6856, 45.0500),
    "poi-gran-madre": (7.6990, 45.0623),
    "poi-lingotto": (7.6673, 45.0319),
    "poi-museo-automobile": (7.6731, 45.0322),
    "poi-parco-dora": (7.6676, 45.0878),
    "poi-cimitero-monumentale": (7.6904, 45.0856),
    "poi-allianz-stadium": (7.6413, 45.1096),
    "poi-parco-della-pellerina": (7.6346, 45.0855),
    "poi-politecnico": (7.6597, 45.0625),
}
POI_RADIUS_DEG = 0.004  # ~350 m: a beacon this close to a POI points to it
INFO_TOPICS = ("transport", "waste-collection", "parks", "culture", "civic-services", "markets")

BEACON_MODELS = (
    # model, battery type, nominal battery voltage in mV, weight
    ("Kontakt.io Smart Beacon SB16-2", "CR2477", 3000, 5),
    ("Minew E8", "CR2477", 3000, 3),
    ("Blue Charm BC011", "ER14505", 3600, 2),
)
ADVERTISING_INTERVALS_MS = (350, 500, 700, 900, 1000)

PRIMARY_NAMES = (
    "Giovanni Pascoli", "Carlo Collodi", "Gianni Rodari", "Edmondo De Amicis", "Giosuè Carducci",
    "Emilio Salgari", "Don Lorenzo Milani", "Maria Montessori", "Aristide Gabelli", "Italo Calvino",
    "Natalia Ginzburg", "Alessandro Manzoni", "Cesare Pavese", "Rita Levi-Montalcini", "Primo Levi",
    "Federico Sclopis", "Vittorio Alfieri", "Grazia Deledda", "Bruno Munari", "Sandro Pertini",
    "Giuseppe Mazzini", "Silvio Pellico", "Costantino Nigra", "Salvo D'Acquisto", "Giuseppe Garibaldi",
    "Luigi Pirandello",
)
SECONDARY_NAMES = (
    ("Scuola secondaria di I grado", "Dante Alighieri"),
    ("Scuola secondaria di I grado", "Antonio Gramsci"),
    ("Scuola secondaria di I grado", "Ugo Foscolo"),
    ("Istituto comprensivo", "Alberto Manzi"),
    ("Istituto comprensivo", "Leonardo da Vinci"),
    ("Istituto comprensivo", "Norberto Bobbio"),
    ("Liceo scientifico", "Galileo Ferraris"),
    ("Liceo classico", "Massimo d'Azeglio"),
    ("Istituto tecnico", "Amedeo Avogadro"),
    ("Liceo scientifico", "Carlo Cattaneo"),
    ("Istituto tecnico", "Germano Sommeiller"),
    ("Liceo artistico", "Renato Cottini"),
    ("Istituto tecnico", "Giuseppe Peano"),
    ("Liceo linguistico", "Camillo Cavour"),
    ("Scuola secondaria di I grado", "Giacomo Matteotti"),
    ("Istituto comprensivo", "Luigi Einaudi"),
)
SPECIAL_ROOMS = ("Palestra", "Mensa", "Biblioteca", "Laboratorio di scienze", "Aula magna", "Aula di informatica")
SUB_METERS = (
    "Gym and changing rooms sub-board",
    "Kitchen and canteen sub-board",
    "Heat pump and ventilation sub-board",
    "Laboratories sub-board",
)


def point_in(rng: random.Random, district: int) -> tuple[float, float]:
    """A (lon, lat) uniformly inside the district's box, to 6 decimals (~0.1 m)."""
    lon_min, lon_max, lat_min, lat_max, _ = DISTRICTS[district]
    return round(rng.uniform(lon_min, lon_max), 6), round(rng.uniform(lat_min, lat_max), 6)


def random_date(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    """A date uniformly between `first` and `last`, both included."""
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def slug(text: str) -> str:
    """Lower-case ASCII words joined by '-' ("Corso Unità d'Italia" -> "corso-unita-d-italia")."""
    ascii_text = text.lower().translate(str.maketrans("àèéìòù", "aeeiou"))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def street_units(rng: random.Random) -> list[dict]:
    """The street-furniture units, ids TO-SU-0001..; every district gets some."""
    districts = list(DISTRICT_WEIGHTS)
    chosen = districts + rng.choices(districts, weights=list(DISTRICT_WEIGHTS.values()), k=STREET_UNITS - 8)
    rng.shuffle(chosen)
    profiles, shares = zip(*STREET_PROFILES.items())
    units = []
    for number, district in enumerate(chosen, start=1):
        lon, lat = point_in(rng, district)
        units.append({
            "id": f"TO-SU-{number:04d}",
            "district": district,
            "lon": lon,
            "lat": lat,
            "street": f"{rng.choice(DISTRICTS[district][4])} {rng.randint(1, 220)}",
            "profile": rng.choices(profiles, weights=shares)[0],
            "installed": random_date(rng, dt.date(2019, 1, 1), dt.date(2025, 12, 31)).isoformat(),
        })
    return units


def school_rooms(rng: random.Random, size: str, classes: int) -> list[dict]:
    """Monitored rooms: a sample of the classrooms plus one or two special rooms."""
    years = 5 if size == "primary" else 3
    sections = "ABCDEF"[: max(1, min(6, -(-classes // years)))]
    classrooms = [f"Aula {year}{section}" for year in range(1, years + 1) for section in sections]
    names = sorted(rng.sample(classrooms, min(len(classrooms), rng.randint(4, 8))), key=classrooms.index)
    names += rng.sample(SPECIAL_ROOMS, rng.randint(1, 2))
    return [{"id": f"R{i:02d}", "name": name, "profile": "classroom"} for i, name in enumerate(names, start=1)]


def school_meters(rng: random.Random) -> list[dict]:
    """The main meter plus zero to two sub-meters."""
    meters = [{"id": "M1", "profile": "school-meter", "role": "main", "description": "Main incomer, whole building (POD)"}]
    for i, description in enumerate(rng.sample(SUB_METERS, rng.randint(0, 2)), start=2):
        meters.append({"id": f"M{i}", "profile": "school-meter", "role": "sub", "description": description})
    return meters


# The Italian level a generated school gets, per generated size class, with weights. Drawn from
# a generator of its own so that adding these facts left every other generated value unchanged.
LEVELS_BY_CLASS = {"primary": (("infanzia", 1), ("primaria", 3)), "secondary": (("secondaria_1", 3), ("secondaria_2", 1))}
NAME_PREFIX = {"infanzia": "Scuola dell'infanzia", "primaria": "Scuola primaria"}
# Local opening hours on school days (tempo pieno for infanzia and primaria).
OPENING = {"infanzia": ("07:45", "16:30"), "primaria": ("08:00", "16:30"),
           "secondaria_1": ("07:50", "14:00"), "secondaria_2": ("07:50", "14:00")}
HEATING_SYSTEMS = (("district_heating", 3), ("gas_boiler", 1))


def opening_hours(extras: random.Random, level: str) -> dict:
    """Monday to Friday for all; some secondary schools of the second grade also on Saturday morning."""
    week = {day: list(OPENING[level]) for day in ("mon", "tue", "wed", "thu", "fri")}
    saturday = level == "secondaria_2" and extras.random() < 0.5
    return {**week, "sat": ["07:50", "12:50"] if saturday else None, "sun": None}


def pick(extras: random.Random, weighted: tuple) -> str:
    """One value of ((value, weight), ...)."""
    values, weights = zip(*weighted)
    return extras.choices(values, weights=weights)[0]


def schools(rng: random.Random) -> list[dict]:
    """Five schools per district, ids TO-SC-01..; each name used once, one in three secondary."""
    extras = random.Random(f"{SEED}/schools")
    primary_names = rng.sample(PRIMARY_NAMES, len(PRIMARY_NAMES))
    secondary_names = rng.sample(SECONDARY_NAMES, len(SECONDARY_NAMES))
    total = SCHOOLS_PER_DISTRICT * len(DISTRICTS)
    sizes = ["primary"] * (total * 2 // 3) + ["secondary"] * (total - total * 2 // 3)
    rng.shuffle(sizes)
    result = []
    for district in DISTRICTS:
        for _ in range(SCHOOLS_PER_DISTRICT):
            size = sizes[len(result)]
            level = pick(extras, LEVELS_BY_CLASS[size])
            if size == "primary":
                name = f"{NAME_PREFIX[level]} {primary_names.pop()}"
                drawn = rng.randint(120, 600)
            else:
                kind, person = secondary_names.pop()
                name = f"{kind} {person}"
                # The name says the grade: licei and istituti tecnici are secondaria di II grado.
                level = "secondaria_2" if kind.startswith(("Liceo", "Istituto tecnico")) else "secondaria_1"
                drawn = rng.randint(300, 1200)
            lon, lat = point_in(rng, district)
            # The shared generator's draws stay in their original order (area, rooms, meters).
            area_per_pupil = rng.uniform(6.5, 11.0)
            rooms = school_rooms(rng, size, drawn // 22)
            meters = school_meters(rng)
            pupils = max(40, drawn // 4) if level == "infanzia" else drawn  # sezioni of about 25 children
            area = round(pupils * area_per_pupil, -1)
            if level == "infanzia":
                rooms = [{**room, "name": f"Sezione {chr(ord('A') + i)}"} if room["name"].startswith("Aula") else room
                         for i, room in enumerate(rooms)]
            heating = pick(extras, HEATING_SYSTEMS)
            heat_meter = {"id": "H1", "profile": "school-heat-meter", "role": "main",
                          "description": ("District-heating substation, heat delivered to the building"
                                          if heating == "district_heating" else "Boiler output, heat delivered to the building")}
            result.append({
                "id": f"TO-SC-{len(result) + 1:02d}",
                "name": name,
                "level": level,
                "pupils": pupils,
                "floor_area_m2": area,
                "district": district,
                "lon": lon,
                "lat": lat,
                "opening_hours": opening_hours(extras, level),
                "heating": {"system": heating},
                "rooms": rooms,
                "meters": meters + [heat_meter],
                "outdoor": {"profile": "school-outdoor"},
            })
    return result


def content_for(rng: random.Random, unit: dict) -> str:
    """The nearest point of interest's content id, or a district information page."""
    for content_id, (lon, lat) in POINTS_OF_INTEREST.items():
        if abs(unit["lon"] - lon) < POI_RADIUS_DEG and abs(unit["lat"] - lat) < POI_RADIUS_DEG:
            return content_id
    street = slug(unit["street"].rsplit(" ", 1)[0])
    return f"info-district-{unit['district']}-{rng.choice(INFO_TOPICS)}-{street}"


def beacons(rng: random.Random, units: list[dict]) -> list[dict]:
    """Beacons on street units, ids TO-BC-0001..; about 15 % iBeacon only, 15 % Eddystone only."""
    hosts = rng.sample(units, BEACON_HOSTS)
    hosts += rng.sample(hosts, BEACONS - BEACON_HOSTS)
    hosts.sort(key=lambda unit: unit["id"])
    minors = rng.sample(range(1, 65536), BEACONS)
    instances = rng.sample(range(1, 2**48), BEACONS)
    models = [m[:3] for m in BEACON_MODELS]
    weights = [m[3] for m in BEACON_MODELS]
    result = []
    for number, (host, minor, instance) in enumerate(zip(hosts, minors, instances), start=1):
        frames = rng.choices(("ibeacon", "eddystone", "both"), weights=(15, 15, 70))[0]
        model, battery_type, nominal_mv = rng.choices(models, weights=weights)[0]
        installed = random_date(rng, dt.date.fromisoformat(host["installed"]), dt.date(2025, 12, 31))
        beacon = {
            "id": f"TO-BC-{number:04d}",
            "host_unit": host["id"],
            "lon": round(host["lon"] + rng.uniform(-0.00005, 0.00005), 6),
            "lat": round(host["lat"] + rng.uniform(-0.00005, 0.00005), 6),
            "content_id": content_for(rng, host),
            "model": model,
            "advertising_interval_ms": rng.choice(ADVERTISING_INTERVALS_MS),
            "battery": {"type": battery_type, "nominal_mv": nominal_mv},
            "installed": installed.isoformat(),
        }
        if frames in ("ibeacon", "both"):
            beacon["ibeacon"] = {"uuid": CITY_IBEACON_UUID, "major": host["district"], "minor": minor}
        if frames in ("eddystone", "both"):
            beacon["eddystone"] = {"namespace": CITY_EDDYSTONE_NAMESPACE, "instance": f"{instance:012x}"}
        result.append(beacon)
    return result


def generate() -> dict[str, dict]:
    """The three inventory documents, by file name."""
    rng = random.Random(SEED)
    units = street_units(rng)
    header = {"version": 1, "generator": "hardware/generate_inventory.py", "seed": SEED}
    return {
        "street_units.json": {**header, "units": units},
        "schools.json": {**header, "schools": schools(rng)},
        "beacons.json": {**header, "beacons": beacons(rng, units)},
    }


def write(out: Path) -> list[Path]:
    """Write the inventory files into `out`; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in generate().items():
        path = out / name
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: write the inventory (default: next to this script)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    for path in write(parser.parse_args(argv).out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
