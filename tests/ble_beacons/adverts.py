"""Named beacon payloads: the reference vectors (shared/reference/beacons.md) and hard cases.

Payloads are what bleak hands over: manufacturer data without the company id,
service data under the Eddystone UUID.
"""

# Blue Charm iBeacon: UUID 426c7565-4368-6172-6d42-6561636f6e73, major 3838, minor 4949, -59 dBm.
BLUECHARM_IBEACON = bytes.fromhex("0215426c7565436861726d426561636f6e730efe1355c5")
# Eddystone-UID: Tx -29 dBm at 0 m, namespace 12345678901234678901, instance 000000000001.
EDDYSTONE_UID_REFERENCE = bytes.fromhex("00e3123456789012346789010000000000010000")
# Eddystone-URL: Tx -8 dBm at 0 m, https://github.com/citruz.
EDDYSTONE_URL_GITHUB = bytes.fromhex("10f8036769746875620063697472757a")
# Eddystone-TLM: 2840 mV, 19.0 °C, 5223 PDUs, uptime 1094.8 s.
EDDYSTONE_TLM_REFERENCE = bytes.fromhex("20000b1813000000146700002ac4")
# The same TLM at -16 °C (0xF000 signed 8.8): an unsigned reading would say 240 °C.
EDDYSTONE_TLM_MINUS_16C = bytes.fromhex("20000b18f000000014670000" + "2ac4")
# TLM with battery and temperature "not supported" (0 mV, 0x8000).
EDDYSTONE_TLM_UNSUPPORTED = bytes.fromhex("200000008000000014670000" + "2ac4")
# Encrypted TLM (version 1): 12 bytes of AES-EAX data, salt 0x1234, MIC 0xabcd.
EDDYSTONE_ETLM = bytes.fromhex("2001" + "00" * 12 + "1234abcd")
# Eddystone-EID: Tx -20 dBm at 0 m, ephemeral id 0102030405060708.
EDDYSTONE_EID = bytes.fromhex("30ec0102030405060708")
# AltBeacon: id 426c7565-4368-6172-6d42-6561636f6e73 / 1 / 2, reference RSSI -60 dBm.
ALTBEACON = bytes.fromhex("beac426c7565436861726d426561636f6e7300010002c400")
