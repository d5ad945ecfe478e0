"""Tests of fleet health and the beacon feed, mirroring iotorino/beacons/."""
