"""Widgets only: they read view models and call their methods. No SQL, no HTTP, no business rules."""
