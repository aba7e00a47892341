"""Shared forecasts: customers' demand forecasts, planners' commits, accuracy."""
