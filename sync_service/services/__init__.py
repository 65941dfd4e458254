"""Use cases of the sync service: checkout, provider events, donations, reconciliation."""
