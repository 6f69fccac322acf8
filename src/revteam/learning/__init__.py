"""Learned models beside the rules: predictive lead scoring (scikit-learn)."""
