"""Server-rendered pages, one module per area; each module has one ``router``."""
