"""The machine door: API tokens and the REST API under /api/v1 (see portal/api/v1.py)."""
