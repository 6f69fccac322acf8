"""Who is who in a revenue team: the roles a user can have, and the groups of roles the rules name.

One definition, read by the services (who may act on a lead, sign the SLA, sit on the dispute
committee) and by the web's access policy (who may open which page), so the two cannot drift.

========== =================================================================================
admin      runs the installation: everything, including people and access
marketing  demand generation and content: the record, imports, the touchpoint API
sdr, ae    sales reps: work the leads handed to them (``REPS``)
leader     revenue leaders: stand in for reps, sign the SLA, sit on the dispute committee
========== =================================================================================

Worked example: an SDR may accept only leads handed to her; a leader or an admin (``SUPERVISORS``)
may accept any lead, because they stand in for the rep.
"""

from __future__ import annotations

ROLES: tuple[str, ...] = ("admin", "marketing", "sdr", "ae", "leader")
REPS: frozenset[str] = frozenset({"sdr", "ae"})  # work the leads handed to them; lists default to "mine"
SUPERVISORS: frozenset[str] = frozenset({"leader", "admin"})  # stand in for reps, sign the SLA, the committee
DISPUTERS: frozenset[str] = frozenset({"marketing"}) | SUPERVISORS  # may dispute a rejection


def is_supervisor(role: str | None) -> bool:
    return role in SUPERVISORS
