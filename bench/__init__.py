"""Benchmarks of dlviz; `bench.interactions` times page interactions (see bench/README.md)."""
