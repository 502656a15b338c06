"""Benchmarks: each ``python -m bench.NAME --json`` prints one JSON document."""
