"""The home page of each side, and the health check."""
