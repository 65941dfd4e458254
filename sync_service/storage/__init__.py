"""Persistence: SQLite behind a small repository, so another engine can replace it."""
