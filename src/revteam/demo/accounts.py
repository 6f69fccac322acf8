"""The market: about 2,000 target accounts and the people who work at them.

Segments follow employee counts (SMB under 200, mid-market 200–1,999, enterprise 2,000 and more) in
the mix a mid-market-focused vendor sees (``shape.SEGMENT_SHARE``: SMB the majority, enterprise about
one in eight). Larger accounts hold more known contacts (``shape.CONTACT_WEIGHT_BY_SEGMENT``). Every
account is owned by an AE of the team whose territory (region × segment) it falls in.

Industries are codes (``financial_services``, ``consumer_goods``), as the scoring model's fit rules
name them. Names are made from word lists; domains are unique (a clash gets a numeric suffix) and contact
e-mails are unique and normalised through ``revteam.domain.identity.normalise_email``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from revteam.demo import shape
from revteam.demo.draw import Weighted
from revteam.demo.people import People
from revteam.domain.identity import normalise_email

NAME_A = ("Blue", "North", "Silver", "Red", "Bright", "Iron", "Cedar", "Harbor", "Summit", "Pioneer", "Granite",
          "Swift", "Clear", "Golden", "Evergreen", "Coastal", "Prairie", "Lunar", "Solar", "Crimson", "Oak",
          "Falcon", "Atlas", "Beacon", "Cobalt", "Delta", "Echo", "Fable", "Glacier", "Horizon", "Indigo", "Jade",
          "Keystone", "Lattice", "Meridian", "Nimbus", "Onyx", "Polar", "Quartz", "River", "Sterling", "Tidal",
          "Upland", "Vertex", "Willow", "Zenith", "Amber", "Birch", "Canyon", "Drift")
NAME_B = ("Labs", "Systems", "Works", "Group", "Partners", "Dynamics", "Networks", "Health", "Logistics", "Foods",
          "Capital", "Energy", "Robotics", "Analytics", "Software", "Media", "Retail", "Freight", "Clinics",
          "Learning", "Insurance", "Bank", "Telecom", "Manufacturing", "Security", "Studios", "Cloud", "Data",
          "Biotech", "Mobility")
INDUSTRY_OF = {"Health": "healthcare", "Clinics": "healthcare", "Biotech": "healthcare", "Logistics": "logistics",
               "Freight": "logistics", "Mobility": "logistics", "Foods": "consumer_goods", "Retail": "retail",
               "Capital": "financial_services", "Bank": "financial_services", "Insurance": "financial_services",
               "Energy": "energy", "Robotics": "manufacturing", "Manufacturing": "manufacturing",
               "Media": "media", "Studios": "media", "Telecom": "telecommunications", "Learning": "education"}
TLDS = {"Americas": (".com", ".com", ".io", ".co"), "EMEA": (".com", ".de", ".co.uk", ".fr", ".io", ".nl"),
        "APAC": (".com", ".com.au", ".sg", ".io", ".jp")}
EMPLOYEES = {"smb": (10, 199), "mid_market": (200, 1_999), "enterprise": (2_000, 60_000)}
SIZE_BANDS = ((50, "1-49"), (200, "50-199"), (1_000, "200-999"), (5_000, "1000-4999"), (10**9, "5000+"))

FIRST = ("Ana", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jack", "Kira", "Liam", "Maya",
         "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Will", "Xin", "Yara", "Zoe",
         "Aditi", "Bruno", "Carmen", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivan", "Julia", "Kenji", "Lena",
         "Mateo", "Nadia", "Omar", "Pia", "Ravi", "Sara", "Tomás", "Ugo", "Valeria", "Wei", "Yusuf", "Zara")
LAST = ("Smith", "Garcia", "Müller", "Rossi", "Kowalski", "Nguyen", "Tanaka", "Silva", "Dubois", "Jensen", "Ivanova",
        "Okafor", "Patel", "Cohen", "Larsen", "Moreau", "Schmidt", "Costa", "Novak", "Haddad", "Kim", "Lopez",
        "Murphy", "Nakamura", "Ortega", "Petrov", "Quinn", "Reyes", "Sato", "Torres", "Ueda", "Varga", "Walsh",
        "Yilmaz", "Zhang", "Andersson", "Becker", "Chen", "Diaz", "Evans", "Fischer", "Gupta", "Hughes", "Ito")
# persona -> (weight, fit multiplier on MQL and acceptance, titles)
PERSONAS = {
    "Revenue leader": (0.12, 1.4, ("VP Sales", "Chief Revenue Officer", "Head of Sales", "VP Revenue")),
    "Marketing leader": (0.14, 1.3, ("VP Marketing", "Head of Demand Generation", "CMO", "Marketing Director")),
    "Revenue operations": (0.16, 1.5, ("RevOps Manager", "Sales Operations Manager", "Marketing Operations Lead",
                                       "Director of Revenue Operations")),
    "Sales manager": (0.16, 1.0, ("Sales Manager", "SDR Team Lead", "Regional Sales Director")),
    "Marketer": (0.22, 0.8, ("Content Marketing Manager", "Demand Generation Specialist", "Field Marketing Manager",
                             "Growth Marketer")),
    "IT and security": (0.08, 0.6, ("IT Director", "Security Engineer", "Systems Administrator")),
    "Poor fit": (0.12, 0.35, ("Student", "Consultant", "Freelance Marketer", "Agency Account Manager", "Intern")),
}
POOR_FIT = "Poor fit"


@dataclass
class AccountDraft:
    id: int
    name: str
    domain: str
    industry: str
    employees: int
    size_band: str
    region: str
    segment: str
    team: int
    owner_id: int
    n_contacts: int = 0
    created: float = 0.0


def _pick(rng: random.Random, mix: dict[str, float]) -> str:
    keys = list(mix)
    return rng.choices(keys, [mix[k] for k in keys])[0]


def build_accounts(rng: random.Random, people: People, n_accounts: int, n_contacts: int) -> list[AccountDraft]:
    accounts: list[AccountDraft] = []
    domains: set[str] = set()
    for i in range(n_accounts):
        a, b = rng.choice(NAME_A), rng.choice(NAME_B)
        name = f"{a} {b}" if rng.random() < 0.7 else f"{a}{rng.choice(NAME_A).lower()} {b}"
        segment = _pick(rng, shape.SEGMENT_SHARE)
        region = _pick(rng, shape.REGION_SHARE)
        lo, hi = EMPLOYEES[segment]
        employees = int(min(hi, lo * rng.paretovariate(1.3)))
        base = re.sub(r"[^a-z0-9]+", "", name.lower())
        tld = rng.choice(TLDS[region])
        domain, n = base + tld, 1
        while domain in domains:
            n += 1
            domain = f"{base}{n}{tld}"
        domains.add(domain)
        team = people.team_for(region, segment)
        aes = people.aes_by_team[team]
        accounts.append(
            AccountDraft(
                id=i + 1, name=name, domain=domain, industry=INDUSTRY_OF.get(b, "software"), employees=employees,
                size_band=next(band for top, band in SIZE_BANDS if employees < top), region=region,
                segment=segment, team=team, owner_id=aes[i % len(aes)],
            )
        )
    # every account has at least one known contact; the rest go to larger accounts more often
    for a in accounts:
        a.n_contacts = 1
    weights = [shape.CONTACT_WEIGHT_BY_SEGMENT[a.segment] * rng.lognormvariate(0, 0.5) for a in accounts]
    for a in rng.choices(accounts, weights, k=max(0, n_contacts - n_accounts)):
        a.n_contacts += 1
    return accounts


class ContactNamer:
    """Unique, normalised e-mail addresses at each account's domain."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self._personas = Weighted((p, w) for p, (w, _fit, _titles) in PERSONAS.items())

    def person(self, account: AccountDraft) -> tuple[str, str, str, str, str]:
        """(email, first, last, persona, title)"""
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        persona = self._personas.pick(rng)
        title = rng.choice(PERSONAS[persona][2])
        local = re.sub(r"[^a-z.]", "", _ascii(f"{first}.{last}").lower())
        email = normalise_email(f"{local}@{account.domain}")
        n = 1
        while email in self.used:
            n += 1
            email = normalise_email(f"{local}{n}@{account.domain}")
        assert email is not None
        self.used.add(email)
        return email, first, last, persona, title


def _ascii(s: str) -> str:
    return s.translate(str.maketrans("áéíóúüöäçñğışÁÉÍÓÚÜÖÄ", "aeiouuoacngisAEIOUUOA"))


def account_rows(accounts: list[AccountDraft], cal: object) -> list[dict[str, object]]:
    to_dt = cal.to_datetime  # type: ignore[attr-defined]
    return [
        {
            "id": a.id, "source_system": "revteam", "external_id": None, "name": a.name, "domain": a.domain,
            "industry": a.industry, "employees": a.employees, "size_band": a.size_band, "region": a.region,
            "segment": a.segment, "owner_id": a.owner_id, "created_at": to_dt(a.created),
        }
        for a in accounts
    ]
