"""Moved: the handoff rules and reads now live in the services (``services/handoff/decide.py`` for who may
act and what a touch or a rejection needs, ``inbox.py`` for the inbox and lead rows, ``disputes.py`` for
rejections and disputes, ``agreement.py`` for the SLA's zone and committee; campaigns touched are in
``services/record/listing.py``).

TEMPORARY (engineer B in progress): the handoff report pages and API (``web/pages/reports.py``,
``web/api/reports.py``) still import these four names from here while they are rewritten to ask the
analytics desk. Delete this module once nothing imports it; it holds no rule and no query.
"""

from __future__ import annotations

from revteam.services.handoff.agreement import sla_zone
from revteam.services.handoff.inbox import reason_labels, rep_of_handoffs
from revteam.services.record.listing import campaigns_touched

__all__ = ["campaigns_touched", "reason_labels", "rep_of_handoffs", "sla_zone"]
