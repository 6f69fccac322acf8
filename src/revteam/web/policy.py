"""Who may open what: the one access policy of the web app and the JSON API.

Every route of the app has a *name* (``name=`` on its decorator) and that name has exactly one entry
in ``POLICY``. The ``authorize`` dependency (``web/guard.py``) runs on every route, looks the name up
here and refuses what the table does not allow. A route without an entry is refused to everybody
(fail closed), and ``tests/web/test_routes_by_role.py`` fails when a route has no entry.

Roles (``store.models.ROLES``):

========== =================================================================================
admin      runs the installation: everything, including people and access
marketing  demand generation and content: the record, imports, the touchpoint API
sdr, ae    sales reps: the record (lists default to their own records), timelines
leader     revenue leaders: the whole record, read-only
========== =================================================================================

The navigation bar is derived from the same table (``nav_for``), so a person never sees a link to a
page they may not open.
"""

from __future__ import annotations

from dataclasses import dataclass

from revteam.store.models import ROLES

EVERYONE: frozenset[str] = frozenset(ROLES)
ADMIN: frozenset[str] = frozenset({"admin"})
DATA_IN: frozenset[str] = frozenset({"admin", "marketing"})
REPS: frozenset[str] = frozenset({"sdr", "ae"})  # lists default to "mine" for them


@dataclass(frozen=True)
class Rule:
    """``roles`` may use the route; ``public`` routes need no log-in at all (the log-in page itself)."""

    roles: frozenset[str] = frozenset()
    public: bool = False

    def allows(self, role: str | None) -> bool:
        return self.public or (role is not None and role in self.roles)


PUBLIC = Rule(public=True)


def _for(roles: frozenset[str]) -> Rule:
    return Rule(roles=roles)


POLICY: dict[str, Rule] = {
    # log in and out
    "login.form": PUBLIC,
    "login.submit": PUBLIC,
    "logout": _for(EVERYONE),
    "health": PUBLIC,  # liveness probe for a load balancer: answers "ok", reveals nothing
    # pages
    "home": _for(EVERYONE),
    "accounts.list": _for(EVERYONE),
    "accounts.timeline": _for(EVERYONE),
    "contacts.list": _for(EVERYONE),
    "contacts.timeline": _for(EVERYONE),
    "deals.list": _for(EVERYONE),
    "imports.page": _for(DATA_IN),
    "imports.submit": _for(DATA_IN),
    "users.page": _for(ADMIN),
    "users.add": _for(ADMIN),
    "users.set_active": _for(ADMIN),
    "users.issue_token": _for(ADMIN),
    "users.revoke_token": _for(ADMIN),
    "apidocs.page": _for(EVERYONE),
    "apidocs.spec": _for(EVERYONE),
    # JSON API (bearer token)
    "api.spec": _for(EVERYONE),
    "api.stats": _for(EVERYONE),
    "api.accounts.list": _for(EVERYONE),
    "api.accounts.timeline": _for(EVERYONE),
    "api.contacts.list": _for(EVERYONE),
    "api.contacts.timeline": _for(EVERYONE),
    "api.deals.list": _for(EVERYONE),
    "api.imports.list": _for(DATA_IN),
    "api.imports.create": _for(DATA_IN),
    "api.touchpoints.create": _for(DATA_IN),
}

# What the navigation bar offers, in order: (route name, label). Shown only when POLICY allows it.
NAV: tuple[tuple[str, str], ...] = (
    ("home", "Home"),
    ("accounts.list", "Accounts"),
    ("contacts.list", "Contacts"),
    ("deals.list", "Deals"),
    ("imports.page", "Import"),
    ("users.page", "Users"),
    ("apidocs.page", "API"),
)

AREA_LABELS: dict[str, str] = {
    "imports": "Import",
    "users": "Users",
    "api.imports": "the import API",
    "api.touchpoints": "the touchpoint API",
}


def rule_for(route_name: str | None) -> Rule | None:
    return POLICY.get(route_name or "")


def allows(role: str | None, route_name: str) -> bool:
    rule = rule_for(route_name)
    return rule is not None and rule.allows(role)


def nav_for(role: str | None) -> list[tuple[str, str]]:
    return [(name, label) for name, label in NAV if role is not None and allows(role, name)]


def roles_allowed(route_name: str) -> list[str]:
    rule = rule_for(route_name)
    if rule is None:
        return []
    return list(ROLES) if rule.public else [r for r in ROLES if r in rule.roles]


def area_label(route_name: str) -> str:
    """A human name for the area a route belongs to, for "your role cannot open ..." messages."""
    for prefix in sorted(AREA_LABELS, key=len, reverse=True):
        if route_name.startswith(prefix + "."):
            return AREA_LABELS[prefix]
    return dict(NAV).get(route_name, "this page")
