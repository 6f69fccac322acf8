"""Analytics errors (part of the one error tree)."""

from revteam.errors import InvalidInput, RevteamError


class AnalyticsSpecError(InvalidInput):
    code = "analytics_spec_invalid"


class AnalyticsUnsupported(RevteamError):
    """An engine cannot run an expression; raised with the engine and what to do."""

    status = 501
    code = "analytics_unsupported"
