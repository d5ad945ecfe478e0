"""Generate the LoRaWAN device map (hardware/lorawan_devices.json) from the inventory's schools and units.

Deterministic (a seeded `random.Random`, stdlib only): running it again on the
same inventory writes a byte-identical file.

    python hardware/generate_lorawan_devices.py            # reads and writes hardware/
    python hardware/generate_lorawan_devices.py --out DIR  # writes into DIR

Which points are on LoRaWAN: the main meter (M1) of the first 12 schools, read
through a Modbus-to-LoRaWAN bridge on The Things Stack; the outdoor stations
of the last 12 schools, on the city's ChirpStack; and the first 8 noise-only
street units, on The Things Stack. Each device model's payload codec emits
its own output names; the file's `models` map them to catalogue fields once
per model (null: a name the codec emits that is not stored, e.g. the battery
level), so the devices carry no field map of their own.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

SEED = 1884  # the year Turin's first electric street lights were switched on
HARDWARE = Path(__file__).resolve().parent
METER_SCHOOLS = 12
OUTDOOR_SCHOOLS = 12
NOISE_UNITS = 8

# Every model is Milesight's: their IEEE OUI starts each DevEUI.
MILESIGHT_OUI = "24e124"
# model -> the codec its devices run and how the codec's output names map to catalogue fields (None: not stored)
MODELS: dict[str, dict] = {
    "Milesight UC300 (Modbus bridge to the meter)": {
        "codec": "Milesight UC300 decoder; the Modbus channels are named in the application's payload formatter",
        "fields": {"energy_import_kwh": "total_active_energy_import", "active_power_w": "total_active_power"}},
    "Milesight EM500-CO2": {
        "codec": "Milesight SensorDecoders em500-co2 (battery, temperature, humidity, co2, pressure)",
        "fields": {"humidity": "relative_humidity", "pressure": None, "battery": None}},
    "Milesight WS302": {
        # Sound channel 0x05: names built as L + frequency weighting (A) + time weighting (F), e.g. LAeq.
        "codec": "Milesight SensorDecoders WS302 (battery, LAF, LAeq, LAFmax with A weighting, fast time weighting)",
        "fields": {"LAeq": "laeq", "LAFmax": "lamax", "LAF": None, "battery": None}},
}


def generate(schools: list[dict], units: list[dict], profiles_with_noise_only: set[str]) -> dict:
    """The device map document for the given schools and street units (inventory file content)."""
    rng = random.Random(SEED)
    devices = []

    def add(device_id: str, network: str, model: str, site: str, site_id: str, point: str | None,
            measurement: str) -> None:
        dev_eui = MILESIGHT_OUI + f"{rng.getrandbits(40):010x}"
        devices.append({"device_id": device_id, "dev_eui": dev_eui, "network": network, "model": model,
                        "site": site, "site_id": site_id, "point": point, "measurement": measurement})

    schools = sorted(schools, key=lambda s: s["id"])
    for school in schools[:METER_SCHOOLS]:
        add(f"{school['id'].lower()}-m1", "ttn", "Milesight UC300 (Modbus bridge to the meter)",
            "school", school["id"], "M1", "energy")
    for school in schools[-OUTDOOR_SCHOOLS:]:
        add(f"{school['id'].lower()}-outdoor", "chirpstack", "Milesight EM500-CO2",
            "school", school["id"], "outdoor", "outdoor_climate")
    noise_units = [u for u in sorted(units, key=lambda u: u["id"]) if u["profile"] in profiles_with_noise_only]
    for unit in noise_units[:NOISE_UNITS]:
        add(f"{unit['id'].lower()}-noise", "ttn", "Milesight WS302", "street", unit["id"], None, "noise")
    return {"version": 1, "generator": "hardware/generate_lorawan_devices.py", "seed": SEED, "models": MODELS,
            "devices": devices}


def main() -> None:
    """Read hardware/schools.json and street_units.json, write lorawan_devices.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HARDWARE, help="output directory (default: hardware/)")
    args = parser.parse_args()
    schools = json.loads((HARDWARE / "schools.json").read_text(encoding="utf-8"))["schools"]
    units = json.loads((HARDWARE / "street_units.json").read_text(encoding="utf-8"))["units"]
    document = generate(schools, units, {"street-noise"})
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    (args.out / "lorawan_devices.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
