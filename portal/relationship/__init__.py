"""Relationship health: each account's signals against its own rhythm, a daily
snapshot, the account manager's portfolio and alerts when something turns red."""
