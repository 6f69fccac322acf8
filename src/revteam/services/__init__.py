"""Use cases: each ties domain rules to storage and owns its transaction boundary."""
