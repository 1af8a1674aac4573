"""Benchmarks whose results the book's Benchmarks page shows.

Each module `benchmarks/NAME.py` defines `TITLE` and `run() -> dict` with the keys
`columns`, `rows` and `notes`. `python -m benchmarks [NAME ...]` runs them and merges
their results, each with the commit, date and hardware it was measured on, into
`benchmarks/results.json`.
"""
