"""Constants of the BLE beacon gateway, each with its unit and why it has its value."""

# Bluetooth SIG company id of Apple (iBeacon manufacturer data key).
APPLE_COMPANY_ID = 0x004C
# Eddystone service data key as bleak spells it (the 16-bit UUID 0xFEAA in full).
EDDYSTONE_SERVICE_UUID = "0000feaa-0000-1000-8000-00805f9b34fb"
# iBeacon manufacturer data starts 02 15; the or-pattern adds the little-endian company id.
IBEACON_PATTERN = b"\x4c\x00\x02\x15"
# Eddystone service data starts with the little-endian 16-bit UUID.
EDDYSTONE_PATTERN = b"\xaa\xfe"

# Seconds within which an Eddystone TLM/URL frame is paired with the UID frame
# from the same advertiser address. Beacons interleave frames every few
# hundred milliseconds; 10 s tolerates lost reports without pairing a rotated
# address to the wrong beacon.
DEFAULT_PAIR_WINDOW_S = 10.0
# Seconds per reading window (the issue asks for 30-60 s).
DEFAULT_WINDOW_S = 30
WINDOW_S_RANGE = (30, 60)
# Seconds without any advertisement after which the scanner is restarted.
DEFAULT_WATCHDOG_S = 60.0
