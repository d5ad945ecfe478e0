"""Benchmarks (not tests): `python -m benchmarks [names...]` prints one table of figures and same-run baselines."""
