"""Alert messages as the alert services retain them (captured from `iotorino alerts city|school`), with variants.

`message(alert)` is (topic, payload) as published; `ended(alert, at)` the same episode's last update.
"""

from __future__ import annotations

from dataclasses import replace

from iotorino.core import alerts as contract
from iotorino.core.times import parse_ns

CO2_R01 = contract.from_json(
    '{"id":"school/co2_ventilate/TO-SC-01/R01/2026-03-03T08:05:00.000Z","kind":"co2_ventilate",'
    '"site":"TO-SC-01/R01","start":"2026-03-03T08:05:00.000Z","end":null,"rating":8,'
    '"message_it":"Aula R01: CO₂ sopra 1500 ppm da oltre 30 minuti (2100 ppm).",'
    '"message_en":"Room R01: CO₂ above 1500 ppm for over 30 minutes (2100 ppm).",'
    '"action_it":"Aprite le finestre per 5-10 minuti, ora.","action_en":"Open the windows for 5-10 minutes, now."}')
BASELOAD_TO_SC_02 = contract.from_json(
    '{"id":"school/baseload_up/TO-SC-02/M1/2026-03-02T23:00:00.000Z","kind":"baseload_up","site":"TO-SC-02/M1",'
    '"start":"2026-03-02T23:00:00.000Z","end":null,"rating":5,'
    '"message_it":"Il carico di base è salito a 6.2 kW (mediana recente 4.1 kW).",'
    '"message_en":"Baseload rose to 6.2 kW (recent median 4.1 kW).",'
    '"action_it":"Cercate cosa resta acceso di notte: server, frigoriferi, pompe, luci esterne.",'
    '"action_en":"Look for what stays on at night: servers, fridges, pumps, outdoor lights."}')
NO2_TO_SU_0001 = contract.from_json(
    '{"id":"city/no2_hourly_limit/TO-SU-0001/2026-03-03T07:00:00.000Z","kind":"no2_hourly_limit",'
    '"site":"TO-SU-0001","start":"2026-03-03T07:00:00.000Z","end":null,"rating":7,'
    '"message_it":"NO₂ orario 250 µg/m³ oltre il valore limite di 200 µg/m³ (Dir. 2008/50/CE: al massimo 18 ore '
    'l\'anno) alla centralina TO-SU-0001. Dato indicativo (sensore a basso costo).",'
    '"message_en":"Hourly NO₂ 250 µg/m³ above the 200 µg/m³ limit value (Directive 2008/50/EC: at most 18 hours '
    'a year) at unit TO-SU-0001. Indicative data (low-cost sensor).",'
    '"action_it":"Verificare il traffico nella zona e confrontare con le stazioni ARPA Piemonte.",'
    '"action_en":"Check the traffic in the area and compare with the ARPA Piemonte stations."}')


def message(alert: contract.Alert) -> tuple[str, bytes]:
    """(topic, payload) as the alert service publishes `alert`, retained (its id begins with its scope)."""
    return contract.topic(alert.id.split("/")[0], alert), alert.to_json()


def ended(alert: contract.Alert, at: str) -> contract.Alert:
    """The episode's last update: ended at `at` (RFC 3339)."""
    return alert.ended(parse_ns(at, "end"))


def later_episode(alert: contract.Alert, start: str) -> contract.Alert:
    """A new episode of the same kind at the same site, starting at `start`."""
    start_ns = parse_ns(start, "start")
    scope = alert.id.split("/")[0]
    return replace(alert, id=contract.episode_id(scope, alert.kind, alert.site, start_ns), start_ns=start_ns,
                   end_ns=None)
