"""The JSON API under ``/api/v1/`` (bearer tokens); one module per area; each has one ``router``."""
