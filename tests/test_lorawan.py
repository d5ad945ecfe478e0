"""The LoRaWAN device map: reproducible generation, lookups, renames, and load-time checks naming the path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iotorino.core import lorawan, paths
from iotorino.core.errors import Rejected
from iotorino.core.inventory import InventoryError

FILE = paths.HARDWARE / "lorawan_devices.json"


def test_generator_reproduces_the_committed_file(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(paths.HARDWARE / "generate_lorawan_devices.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(paths.ROOT), "PYTHONHASHSEED": "random"})
    assert (tmp_path / "lorawan_devices.json").read_bytes() == FILE.read_bytes(), (
        "run `python hardware/generate_lorawan_devices.py` and commit the result")


def test_project_map_covers_both_networks_and_site_kinds() -> None:
    devices = list(lorawan.default().by_device_id.values())
    assert 24 <= len(devices) <= 60
    assert {d.network for d in devices} == {"ttn", "chirpstack"}
    assert {d.site for d in devices} == {"street", "school"}


def test_lookups_by_network() -> None:
    devices = lorawan.default()
    meter = devices.ttn_device("to-sc-01-m1")
    assert (meter.site, meter.site_id, meter.point, meter.measurement) == ("school", "TO-SC-01", "M1", "energy")
    outdoor = next(d for d in devices.by_dev_eui.values() if d.network == "chirpstack")
    assert devices.chirpstack_device(outdoor.dev_eui.upper()) is outdoor
    with pytest.raises(Rejected) as caught:
        devices.chirpstack_device(meter.dev_eui)
    assert (caught.value.reason, caught.value.field, caught.value.value) == ("unknown_device", "dev_eui", meter.dev_eui)
    with pytest.raises(Rejected) as caught:
        devices.ttn_device(outdoor.device_id)
    assert (caught.value.reason, caught.value.field) == ("unknown_device", "device_id")


def test_rename_maps_drops_and_keeps() -> None:
    device = lorawan.default().ttn_device("to-su-0005-noise")
    assert device.rename({"LAeq": 60.0, "LAF": 55.0, "LAFmax": 71.5, "battery": 90}) == {"laeq": 60.0, "lamax": 71.5}
    meter = lorawan.default().ttn_device("to-sc-01-m1")
    assert meter.rename({"energy_import_kwh": 1.5, "co2": 3}) == {"total_active_energy_import": 1.5, "co2": 3}


def test_a_model_maps_names_for_all_its_devices_and_a_device_overrides_single_names(tmp_path) -> None:
    def change(document):
        document["models"]["Milesight UC300 (Modbus bridge to the meter)"]["fields"].update(
            energy_import_wh={"field": "total_active_energy_import", "unit": "Wh"},
            power_dw={"field": "total_active_power", "scale": 0.1, "unit": "kW"})
        document["devices"][0]["fields"] = {"energy_import_kwh": None}
    devices = lorawan.load(_write_map(tmp_path, change))
    first, second = devices.ttn_device("to-sc-01-m1"), devices.ttn_device("to-sc-02-m1")
    assert second.rename({"energy_import_kwh": 2.5, "energy_import_wh": 51_234_500, "power_dw": 81.5}) == {
        "total_active_energy_import": 51_234.5, "total_active_power": 8150.0}
    assert first.rename({"energy_import_kwh": 2.5, "active_power_w": 10}) == {"total_active_power": 10}
    assert first.rename({"power_dw": "n/a"}) == {"total_active_power": "n/a"}  # left for the catalogue to quarantine


def _write_map(tmp_path: Path, change) -> Path:
    document = json.loads(FILE.read_text(encoding="utf-8"))
    change(document)
    (tmp_path / "lorawan_devices.json").write_text(json.dumps(document), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("change, path, value", [
    (lambda d: d[1].update(device_id=d[0]["device_id"]), "devices[1].device_id", "to-sc-01-m1"),
    (lambda d: d[2].update(dev_eui=d[0]["dev_eui"]), "devices[2].dev_eui", None),
    (lambda d: d[0].update(site_id="TO-SC-99"), "devices[0]", None),
    (lambda d: d[0].update(measurement="noise"), "devices[0]", None),
    (lambda d: d[0].update(fields={"power_w": "watts"}), "devices[0].fields.power_w", "watts"),
    (lambda d: d[0].update(fields={"power": {"field": "total_active_power", "unit": "Cel"}}),
     "devices[0].fields.power.unit", "Cel"),
    (lambda d: d[0].update(model="Milesight UC301"), "devices[0].model", "Milesight UC301"),
    (lambda d: d[0].update(dev_eui="24E1241ED34EA4CE"), "devices[0].dev_eui", "24E1241ED34EA4CE"),
    (lambda d: d[0].update(network="lorawan"), "devices[0].network", "lorawan"),
])
def test_load_errors_name_the_path(tmp_path, change, path, value) -> None:
    with pytest.raises(InventoryError) as caught:
        lorawan.load(_write_map(tmp_path, lambda document: change(document["devices"])))
    assert caught.value.path == path
    if value is not None:
        assert caught.value.value == value
