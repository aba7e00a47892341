"""Installed equipment: which catalogue products are serialised equipment (warranty,
maintenance plan, consumables) and each unit at a customer's site."""
