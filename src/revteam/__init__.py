"""revteam: one revenue team, one system."""

__version__ = "0.1.0"
