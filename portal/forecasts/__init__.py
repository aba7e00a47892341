"""Shared demand forecasts: a draft per customer account and its published versions."""
