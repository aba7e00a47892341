"""Shared demand forecasts: a draft per customer account, its published versions,
and how well they matched the orders (accuracy.py)."""
