"""People and access: users, roles, API tokens, log-in sessions, and personal data (export and erase)."""
