"""Benchmarks for the sync service; run `python bench/webhooks.py --help`."""
