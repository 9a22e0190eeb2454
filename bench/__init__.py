"""Benchmarks: `make bench` (or `python -m bench --help`). Each prints its figures together
with ratios to a baseline measured in the same run (see bench/README.md)."""
