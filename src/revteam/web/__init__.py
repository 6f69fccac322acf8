"""The web app: server-rendered pages (Jinja2 + htmx) and the JSON API. Start with ``app.create_app``."""
