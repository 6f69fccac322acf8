"""Who may open what: the one access policy of the web app and the JSON API.

Every route of the app has a *name* (``name=`` on its decorator) and that name has exactly one entry
in ``POLICY``. The ``authorize`` dependency (``web/deps.py``) runs on every route, looks the name up
here and refuses what the table does not allow. A route without an entry is refused to everybody
(fail closed), and ``tests/web/test_routes_by_role.py`` fails when a route has no entry.

Roles and the groups of roles (``REPS``, ``SUPERVISORS``, ``DISPUTERS``) are defined once, in
``domain/roles.py``, which the services read too:

========== =================================================================================
admin      runs the installation: everything, including people and access
marketing  demand generation and content: the record, imports, the touchpoint API
sdr, ae    sales reps: the record (lists default to their own records), timelines, their lead inbox
leader     revenue leaders: the whole record read-only; every rep's inbox; the SLA (propose, sign),
           the dispute committee
========== =================================================================================

The handoff (issue #3) adds: the lead inbox and its actions for reps and for the leaders and admins
who stand in for them (the services also check that the lead is the rep's own); disputes opened by
marketing (and leaders, admins), voted on by the committee (leaders, admins; the service checks that
the voter is on the committee); the SLA proposed and signed by the heads (leaders, admins); the
scoring model edited by marketing and admins and read by leaders; every report, the agreement and
one's own notification settings open to everyone.

Issue #4 adds the analytics pages (funnel, attribution and a deal's attribution, content ROI and a
piece's drill-down, revenue and the forecast): read-only and open to everyone logged in.

Issue #10 adds API token scopes: each ``/api/`` rule names the token scopes it accepts besides ``full``
(``_read``: ``read`` tokens; ``_api(..., INGEST)``: ``ingest`` tokens); a rule naming none accepts only
``full`` tokens, so a new write route is closed to narrow tokens until someone decides otherwise
(``tests/security/test_token_scopes.py`` checks that no route with a write method accepts ``read``).
Everyone has a page of their own API tokens.

Privacy (issue #10, item 8): the privacy desk (``/privacy``: find a person, export, erase, lift a
tombstone) and its API are for admins only. Finding and exporting a person are POSTs (the address stays
out of URLs and access logs), so like the writes they need a ``full`` token.

The navigation bar is derived from the same table (``nav_for``), so a person never sees a link to a
page they may not open.
"""

from __future__ import annotations

from dataclasses import dataclass

from revteam.domain.roles import DISPUTERS, REPS, ROLES, SUPERVISORS
from revteam.domain.token_scopes import INGEST, READ, scope_allows

EVERYONE: frozenset[str] = frozenset(ROLES)
ADMIN: frozenset[str] = frozenset({"admin"})
DATA_IN: frozenset[str] = frozenset({"admin", "marketing"})
INBOX: frozenset[str] = REPS | SUPERVISORS  # reps, and the supervisors who stand in for them
SCORING_READ: frozenset[str] = frozenset({"admin", "marketing", "leader"})
SCORING_EDIT: frozenset[str] = frozenset({"admin", "marketing"})


@dataclass(frozen=True)
class Rule:
    """``roles`` may use the route; ``public`` routes need no log-in at all (the log-in page itself).

    ``scopes``: the API token scopes (``domain/token_scopes.py``) that may call the route besides ``full``;
    none declared means only ``full`` tokens (fail closed)."""

    roles: frozenset[str] = frozenset()
    public: bool = False
    scopes: frozenset[str] = frozenset()

    def allows(self, role: str | None) -> bool:
        return self.public or (role is not None and role in self.roles)

    def allows_scope(self, scope: str) -> bool:
        return scope_allows(scope, self.scopes)


PUBLIC = Rule(public=True)


def _for(roles: frozenset[str]) -> Rule:
    return Rule(roles=roles)


def _api(roles: frozenset[str], *scopes: str) -> Rule:
    return Rule(roles=roles, scopes=frozenset(scopes))


def _read(roles: frozenset[str]) -> Rule:
    """A read-only API route: ``read`` tokens may call it (and ``full`` ones)."""
    return _api(roles, READ)


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
    # one's own API tokens (issue #10): everyone creates and revokes their own
    "tokens.page": _for(EVERYONE),
    "tokens.create": _for(EVERYONE),
    "tokens.revoke": _for(EVERYONE),
    "apidocs.page": _for(EVERYONE),
    "apidocs.spec": _for(EVERYONE),
    # the handoff (issue #3)
    "inbox.page": _for(INBOX),
    "inbox.accept": _for(INBOX),
    "inbox.reject": _for(INBOX),
    "inbox.touch": _for(INBOX),
    "inbox.qualify": _for(INBOX),
    "sla.board": _for(EVERYONE),
    "unworked.page": _for(EVERYONE),
    "rejections.page": _for(EVERYONE),
    "disputes.page": _for(EVERYONE),
    "disputes.open": _for(DISPUTERS),
    "disputes.vote": _for(SUPERVISORS),
    "followup.page": _for(EVERYONE),
    "scoring.page": _for(SCORING_READ),
    "scoring.preview": _for(SCORING_EDIT),
    "scoring.save": _for(SCORING_EDIT),
    "agreement.page": _for(EVERYONE),
    "agreement.propose": _for(SUPERVISORS),
    "agreement.sign": _for(SUPERVISORS),
    "notifications.page": _for(EVERYONE),
    "notifications.save": _for(EVERYONE),
    "notifications.group": _for(EVERYONE),
    # analytics (issue #4): read-only, everyone logged in
    "funnel.page": _for(EVERYONE),
    "attribution.page": _for(EVERYONE),
    "attribution.deal": _for(EVERYONE),
    "content.page": _for(EVERYONE),
    "content.piece": _for(EVERYONE),
    "forecast.page": _for(EVERYONE),
    # JSON API (bearer token)
    "api.spec": _api(EVERYONE, READ, INGEST),
    "api.stats": _read(EVERYONE),
    "api.accounts.list": _read(EVERYONE),
    "api.accounts.timeline": _read(EVERYONE),
    "api.contacts.list": _read(EVERYONE),
    "api.contacts.timeline": _read(EVERYONE),
    "api.deals.list": _read(EVERYONE),
    "api.imports.list": _api(DATA_IN, READ, INGEST),
    "api.imports.create": _api(DATA_IN, INGEST),
    "api.touchpoints.create": _api(DATA_IN, INGEST),
    "api.inbox.list": _read(INBOX),
    "api.handoffs.accept": _for(INBOX),
    "api.handoffs.reject": _for(INBOX),
    "api.handoffs.touch": _for(INBOX),
    "api.handoffs.qualify": _for(INBOX),
    "api.rejected.list": _read(EVERYONE),
    "api.disputes.list": _read(EVERYONE),
    "api.disputes.open": _for(DISPUTERS),
    "api.disputes.vote": _for(SUPERVISORS),
    "api.sla.board": _read(EVERYONE),
    "api.sla.compliance": _read(EVERYONE),
    "api.sla.delivery": _read(EVERYONE),
    "api.reports.unworked": _read(EVERYONE),
    "api.reports.rejections": _read(EVERYONE),
    "api.campaigns.list": _read(EVERYONE),
    "api.campaigns.followup": _read(EVERYONE),
    # the analytics desk over the API: the roles of the matching pages (every analytics page and report: everyone)
    "api.analytics.funnel": _read(EVERYONE),
    "api.analytics.attribution": _read(EVERYONE),
    "api.analytics.attribution_stage": _read(EVERYONE),
    "api.analytics.attribution_deal": _read(EVERYONE),
    "api.analytics.content": _read(EVERYONE),
    "api.analytics.content_piece": _read(EVERYONE),
    "api.analytics.revenue": _read(EVERYONE),
    "api.analytics.forecast": _read(EVERYONE),
    "api.analytics.backtest": _read(EVERYONE),
    "api.analytics.outlook": _read(EVERYONE),
    "api.analytics.compliance": _read(EVERYONE),
    "api.analytics.board": _read(EVERYONE),
    "api.analytics.unworked": _read(EVERYONE),
    "api.analytics.rejections": _read(EVERYONE),
    "api.analytics.followup": _read(EVERYONE),
    "api.scoring.get": _read(SCORING_READ),
    "api.scoring.preview": _for(SCORING_EDIT),
    "api.scoring.save": _for(SCORING_EDIT),
    "api.agreements.get": _read(EVERYONE),
    "api.agreements.propose": _for(SUPERVISORS),
    "api.agreements.sign": _for(SUPERVISORS),
    "api.notifications.get": _read(EVERYONE),
    "api.notifications.set": _for(EVERYONE),
    "api.notifications.group": _for(EVERYONE),
    "api.tokens.list": _read(EVERYONE),
    "api.tokens.revoke": _for(EVERYONE),  # full tokens only: a leaked read token cannot revoke the owner's others
    # privacy (issue #10, item 8): admins only; exports are personal data, so full tokens only, even for the GET
    "privacy.page": _for(ADMIN),
    "privacy.find": _for(ADMIN),
    "privacy.export": _for(ADMIN),
    "privacy.erase": _for(ADMIN),
    "privacy.lift": _for(ADMIN),
    "api.privacy.export": _for(ADMIN),
    "api.privacy.erase": _for(ADMIN),
    "api.privacy.lift": _for(ADMIN),
}
# GET API routes that a ``read`` token may not call, each with why (tests/security/test_token_scopes.py).
FULL_ONLY_READS: dict[str, str] = {}  # (the privacy export is a POST: full tokens only like every write)

# What the navigation bar offers, in order: (route name, label). Shown only when POLICY allows it.
NAV: tuple[tuple[str, str], ...] = (
    ("home", "Home"),
    ("accounts.list", "Accounts"),
    ("contacts.list", "Contacts"),
    ("deals.list", "Deals"),
    ("inbox.page", "Inbox"),
    ("sla.board", "Handoff"),
    ("funnel.page", "Analytics"),
    ("imports.page", "Import"),
    ("users.page", "Users"),
    ("privacy.page", "Privacy"),
    ("apidocs.page", "API"),
)

# The handoff pages share one menu entry ("Handoff") and a row of tabs (``HANDOFF_TABS``): the entry
# is highlighted on all of them.
HANDOFF_TABS: tuple[tuple[str, str], ...] = (
    ("sla.board", "SLA board"),
    ("unworked.page", "Unworked"),
    ("rejections.page", "Rejections"),
    ("disputes.page", "Disputes"),
    ("followup.page", "Campaign follow-up"),
    ("agreement.page", "Agreement"),
    ("scoring.page", "Scoring"),
)
# The analytics pages (issue #4) share the menu entry "Analytics" and their own row of tabs.
ANALYTICS_AREAS: frozenset[str] = frozenset({"funnel", "attribution", "content", "forecast"})
SECTIONS: dict[str, frozenset[str]] = {
    "sla.board": frozenset(name.split(".")[0] for name, _ in HANDOFF_TABS),
    "funnel.page": ANALYTICS_AREAS,
}

AREA_LABELS: dict[str, str] = {
    "imports": "Import",
    "tokens": "API tokens",
    "api.tokens": "the token API",
    "users": "Users",
    "privacy": "the privacy desk",
    "api.privacy": "the privacy API",
    "inbox": "the lead inbox",
    "disputes": "disputes",
    "scoring": "the scoring model",
    "agreement": "the SLA agreement",
    "api.imports": "the import API",
    "api.touchpoints": "the touchpoint API",
    "api.inbox": "the inbox API",
    "api.handoffs": "the handoff API",
    "api.disputes": "the dispute API",
    "api.scoring": "the scoring API",
    "api.agreements": "the agreement API",
}
# Actions inside a page someone may open: "Your role (sdr) may not open a dispute."
ACTIONS: dict[str, str] = {
    "disputes.open": "open a dispute",
    "disputes.vote": "vote on disputes",
    "scoring.preview": "edit the scoring model",
    "scoring.save": "edit the scoring model",
    "agreement.propose": "propose an SLA",
    "agreement.sign": "sign the SLA",
    "api.disputes.open": "open a dispute",
    "api.disputes.vote": "vote on disputes",
    "api.scoring.preview": "edit the scoring model",
    "api.scoring.save": "edit the scoring model",
    "api.agreements.propose": "propose an SLA",
    "api.agreements.sign": "sign the SLA",
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


def tabs_for(role: str | None) -> list[tuple[str, str]]:
    return [(name, label) for name, label in HANDOFF_TABS if role is not None and allows(role, name)]


def nav_active(nav_route: str, current_route: str) -> bool:
    """Is the menu entry ``nav_route`` the one to highlight on ``current_route``?"""
    area = current_route.split(".")[0]
    return area == nav_route.split(".")[0] or area in SECTIONS.get(nav_route, ())


def refusal(route_name: str, role: str) -> str:
    """Why ``role`` is refused ``route_name``, and who may use it."""
    allowed = ", ".join(roles_allowed(route_name))
    if route_name in ACTIONS:
        head = f"Your role ({role}) may not {ACTIONS[route_name]}."
    else:
        head = f"Your role ({role}) cannot open {area_label(route_name)}."
    return f"{head} It is open to: {allowed}. Ask an admin if you need it."


def scope_refusal(route_name: str, scope: str) -> str:
    """Why a token of ``scope`` is refused ``route_name``, and which scope would do."""
    rule = rule_for(route_name)
    accepted = [s for s in ("read", "ingest") if rule and s in rule.scopes] + ["full"]
    return (f"This API token's scope ({scope}) does not cover this call; it needs a token with scope "
            f"{' or '.join(accepted)}. Create one on your API tokens page (/tokens).")


def area_label(route_name: str) -> str:
    """A human name for the area a route belongs to, for "your role cannot open ..." messages."""
    for prefix in sorted(AREA_LABELS, key=len, reverse=True):
        if route_name.startswith(prefix + "."):
            return AREA_LABELS[prefix]
    return dict(NAV).get(route_name, "this page")
