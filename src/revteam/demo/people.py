"""The people of the demo company: teams, users and the territories the reps work.

Brightloop (the demo company) sells a revenue-operations platform. Its revenue team is the size of
a typical series-B B2B software company: 12 reps, six SDRs who work new leads and six AEs who run
deals, in three teams split by region and segment; a marketing team of four; three leaders (CRO, VP
sales, head of marketing); one admin from revenue operations. Everyone shares ``DEMO_PASSWORD``,
which ``revteam demo`` prints with one log-in per role.

Reps are not identical (``REP_PROFILES``): one SDR answers slowly and leaves more leads unworked,
one rejects far more than the others; this is what the "who dropped which ball" views should find.

Territories: the commercial teams take SMB and mid-market accounts in their regions, the enterprise
team takes enterprise accounts everywhere. Each rep's regions, segments, daily capacity, working hours
and manager are written to ``rep_profiles``, where routing reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEMO_EMAIL_DOMAIN = "demo.revteam.test"
DEMO_PASSWORD = "brightloop-demo-2026"  # printed by `revteam demo`; at least MIN_PASSWORD_LENGTH chars
COMPANY_NAME = "Brightloop"
COMPANY_SITE = "https://www.brightloop.example"

# (id, name, function)
TEAMS = (
    (1, "Americas Commercial", "sales"),
    (2, "International Commercial", "sales"),
    (3, "Enterprise", "sales"),
    (4, "Marketing", "marketing"),
    (5, "Revenue leadership", "leadership"),
)

# (region, segment) -> sales team id
TERRITORIES = {
    **{("Americas", seg): 1 for seg in ("smb", "mid_market")},
    **{(reg, seg): 2 for reg in ("EMEA", "APAC") for seg in ("smb", "mid_market")},
    **{(reg, "enterprise"): 3 for reg in ("Americas", "EMEA", "APAC")},
}

# (id, local part of the e-mail, name, role, team id, title)
USERS = (
    (1, "admin", "Morgan Reyes", "admin", None, "Revenue operations"),
    (2, "cro", "Dana Whitfield", "leader", 5, "Chief revenue officer"),
    (3, "vp.sales", "Marcus Oyelaran", "leader", 5, "VP sales"),
    (4, "head.marketing", "Priya Raman", "leader", 5, "Head of marketing"),
    (5, "marketing", "Jonas Berg", "marketing", 4, "Demand generation manager"),
    (6, "aiko.tanaka", "Aiko Tanaka", "marketing", 4, "Content marketing manager"),
    (7, "lucia.fernandez", "Lucía Fernández", "marketing", 4, "Field and events marketing"),
    (8, "tom.becker", "Tom Becker", "marketing", 4, "Marketing operations"),
    (9, "sdr", "Ella Novak", "sdr", 1, "Sales development rep"),
    (10, "amir.haddad", "Amir Haddad", "sdr", 1, "Sales development rep"),
    (11, "sofia.lindqvist", "Sofia Lindqvist", "sdr", 2, "Sales development rep"),
    (12, "kwame.asante", "Kwame Asante", "sdr", 2, "Sales development rep"),
    (13, "hannah.okafor", "Hannah Okafor", "sdr", 3, "Sales development rep"),
    (14, "leo.martin", "Léo Martin", "sdr", 3, "Sales development rep"),
    (15, "ae", "Grace Kim", "ae", 1, "Account executive"),
    (16, "diego.alvarez", "Diego Álvarez", "ae", 1, "Account executive"),
    (17, "nina.schreiber", "Nina Schreiber", "ae", 2, "Account executive"),
    (18, "raj.patel", "Raj Patel", "ae", 2, "Account executive"),
    (19, "olivia.chen", "Olivia Chen", "ae", 3, "Enterprise account executive"),
    (20, "samuel.brooks", "Samuel Brooks", "ae", 3, "Enterprise account executive"),
)

# Where each sales team works from: the rep's time zone in ``rep_profiles`` (routing reads working hours).
TEAM_TZ = {1: "America/New_York", 2: "Europe/London", 3: "America/Chicago"}
DAILY_CAPACITY = {"sdr": 25, "ae": 8}  # new leads an SDR, new opportunities an AE, can take a day
SALES_MANAGER = 3  # the VP sales manages every rep

# The log-in printed for each role (user ids above).
ROLE_LOGINS = (("admin", 1), ("leader", 2), ("marketing", 5), ("sdr", 9), ("ae", 15))


@dataclass(frozen=True)
class RepProfile:
    """How one rep works, relative to the team: 1.0 is the norm."""

    response: float = 1.0  # multiplies the time to the first touch
    reject: float = 1.0  # multiplies the rejection share
    unworked: float = 1.0  # multiplies the share of MQLs never touched
    win: float = 1.0  # multiplies the win rate (AEs)


REP_PROFILES: dict[int, RepProfile] = {
    10: RepProfile(response=3.0, unworked=2.5),  # Amir: slow, and drops leads
    12: RepProfile(reject=1.5),  # Kwame: rejects half again as many
    14: RepProfile(response=0.5, reject=0.8),  # Léo: fast and generous
    16: RepProfile(win=1.15),  # Diego: the closer
    18: RepProfile(win=0.85),
}


@dataclass
class People:
    teams: list[tuple[int, str, str]]
    users: list[dict[str, object]]  # rows for the users table, without password_hash
    sdrs_by_team: dict[int, list[int]] = field(default_factory=dict)
    aes_by_team: dict[int, list[int]] = field(default_factory=dict)
    marketing: list[int] = field(default_factory=list)
    leaders: list[int] = field(default_factory=list)
    admin: int = 1
    logins: list[dict[str, str]] = field(default_factory=list)
    territories: dict[str, str] = field(default_factory=dict)  # "Americas/smb" -> team name

    def profile(self, user_id: int) -> RepProfile:
        return REP_PROFILES.get(user_id, RepProfile())

    def team_for(self, region: str, segment: str) -> int:
        return TERRITORIES[(region, segment)]


def rep_profile_rows(people: People) -> list[dict[str, object]]:
    """``rep_profiles`` rows: each rep's territory (regions × segments), capacity, hours and manager."""
    rows = []
    for uid, _local, _name, role, team, _title in USERS:
        if role not in DAILY_CAPACITY:
            continue
        cells = [key for key, tid in TERRITORIES.items() if tid == team]
        rows.append({
            "user_id": uid, "weight": 1.0, "daily_capacity": DAILY_CAPACITY[role], "tz": TEAM_TZ[team],  # type: ignore[index]
            "opens": "09:00", "closes": "17:30", "weekdays": "0,1,2,3,4", "manager_id": SALES_MANAGER,
            "regions": sorted({r for r, _ in cells}), "segments": sorted({s for _, s in cells}),
        })
    return rows


def email_of(local: str) -> str:
    return f"{local}@{DEMO_EMAIL_DOMAIN}"


def build_people(created_at: object) -> People:
    """The fixed cast of users and teams (no randomness: the same people in every demo)."""
    users = [
        {
            "id": uid,
            "email": email_of(local),
            "name": name,
            "role": role,
            "team_id": team,
            "is_active": True,
            "created_at": created_at,
        }
        for uid, local, name, role, team, _title in USERS
    ]
    people = People(teams=list(TEAMS), users=users)
    for uid, _local, _name, role, team, _title in USERS:
        if role == "sdr":
            people.sdrs_by_team.setdefault(team, []).append(uid)  # type: ignore[arg-type]
        elif role == "ae":
            people.aes_by_team.setdefault(team, []).append(uid)  # type: ignore[arg-type]
        elif role == "marketing":
            people.marketing.append(uid)
        elif role == "leader":
            people.leaders.append(uid)
    by_id = {u["id"]: u for u in users}
    people.logins = [
        {"role": role, "email": str(by_id[uid]["email"]), "name": str(by_id[uid]["name"]), "password": DEMO_PASSWORD}
        for role, uid in ROLE_LOGINS
    ]
    team_names = {tid: name for tid, name, _ in TEAMS}
    people.territories = {f"{reg}/{seg}": team_names[tid] for (reg, seg), tid in TERRITORIES.items()}
    return people
