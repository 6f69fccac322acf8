"""Notifications: an outbox table, channels through Apprise, and the worker that drains it."""
