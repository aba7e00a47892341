"""Shared plans board: plans both sides publish, revise, withdraw and acknowledge."""
