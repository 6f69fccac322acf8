"""Qualifying leads: the scoring model, scoring contacts, and rescoring when touches arrive."""
