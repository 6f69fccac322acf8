"""Notifications: the worker loop (SLA tick, then delivery) and people's notification settings."""
