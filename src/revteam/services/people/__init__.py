"""People and access: users, roles, API tokens, log-in sessions, and personal data (export and erase).

``User`` and ``WebSession`` are re-exported here for the faces' type annotations (the web and the CLI
never import ``revteam.store``).
"""

from revteam.store.models import User, WebSession

__all__ = ["User", "WebSession"]
