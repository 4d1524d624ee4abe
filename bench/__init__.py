"""Benchmarks against issue 7's goals: `python -m bench` writes BENCHMARKS.md."""
