"""Keeping the revenue record: lifecycle moves, timelines, finding contacts, counts and the audit log."""
