"""Test doubles for what cannot run here, built on the real thing underneath (see influx_v2_gateway)."""
