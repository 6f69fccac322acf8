"""What each kind of import file may hold: its fields, their types, and which are required.

The column lists here are the documented file formats (``docs/importing.md`` prints them); a
mapping renames a source system's columns to these names.
"""

from __future__ import annotations

from dataclasses import dataclass

from revteam.ingest.fields import MAX_PROPERTIES_BYTES
from revteam.ingest.fields import FieldSpec as F
from revteam.store.models import (
    CONSENT_VALUES,
    CONTENT_STATUSES,
    DEAL_OUTCOMES,
    TOUCH_TYPES,
)


@dataclass(frozen=True)
class KindSpec:
    kind: str
    fields: tuple[F, ...]
    summary: str
    # a row must have at least one field of each group (e.g. an e-mail or an external id)
    one_of: tuple[tuple[str, ...], ...] = ()

    @property
    def names(self) -> set[str]:
        return {f.name for f in self.fields}

    def field(self, name: str) -> F:
        return next(f for f in self.fields if f.name == name)


_EXT = F("external_id", max_length=120, help="Id of the record in the source system")
_OWNER = F("owner_email", "email", help="E-mail of a revteam user who owns it")
_ACCOUNT_REFS = (
    F("account_external_id", max_length=120, help="External id of an account (same source system)"),
    F("account_domain", "domain", help="Web domain of an account"),
    F("account_name", max_length=200, help="Exact name of an account"),
)
_CONTACT_REFS = (
    F("contact_email", "email", help="E-mail of the contact"),
    F("contact_external_id", max_length=120, help="External id of the contact (same source system)"),
)

KIND_SPECS: dict[str, KindSpec] = {
    "accounts": KindSpec(
        "accounts",
        (
            _EXT,
            F("name", required=True, max_length=200),
            F("domain", "domain"),
            F("industry", max_length=80),
            F("employees", "int", minimum=0),
            F("size_band", max_length=20),
            F("region", max_length=80),
            F("segment", max_length=40),
            _OWNER,
            F("created_at", "datetime"),
        ),
        "Companies in the target market. Identified by external_id, else by domain.",
        one_of=(("external_id", "domain"),),
    ),
    "contacts": KindSpec(
        "contacts",
        (
            F("email", "email", help="Identifies the person across sources"),
            _EXT,
            F("first_name", max_length=120),
            F("last_name", max_length=120),
            F("title", max_length=200),
            *_ACCOUNT_REFS,
            F("persona", max_length=80),
            F("original_source", max_length=80),
            F("original_campaign", max_length=120, help="External id of the campaign that brought them"),
            _OWNER,
            F("stage", max_length=40, help="Lifecycle stage; new contacts default to lead"),
            F("consent", "enum", choices=CONSENT_VALUES),
            F("created_at", "datetime", help="First time they showed up; the lifecycle entry time"),
        ),
        "People. Identified by normalised e-mail, else by external_id.",
        one_of=(("email", "external_id"),),
    ),
    "touchpoints": KindSpec(
        "touchpoints",
        (
            F("external_id", max_length=120, help="Event id; derived from the row when absent"),
            *_CONTACT_REFS,
            F("type", "enum", required=True, choices=TOUCH_TYPES),
            F("channel", max_length=40),
            F("campaign", max_length=120, help="External id of the campaign"),
            F("content", max_length=120, help="External id of the content piece"),
            F("url", max_length=2000),
            F("occurred_at", "datetime", required=True),
            F("properties", "json", max_length=MAX_PROPERTIES_BYTES,
              help="A JSON object of what else is known (UTM tags ...); at most 16 KB of JSON (UTF-8) per touch"),
            F("actor_email", "email", help="The revteam user who made a sales touch"),
        ),
        "What a contact did, or what sales did with them.",
        one_of=(("contact_email", "contact_external_id"),),
    ),
    "campaigns": KindSpec(
        "campaigns",
        (
            F("external_id", required=True, max_length=120),
            F("name", required=True, max_length=200),
            F("channel", required=True, max_length=40),
            F("type", max_length=40),
            F("start_date", "date"),
            F("end_date", "date"),
            F("cost", "decimal", minimum=0),
            _OWNER,
        ),
        "Marketing campaigns and events.",
    ),
    "content": KindSpec(
        "content",
        (
            F("external_id", required=True, max_length=120),
            F("title", required=True, max_length=300),
            F("type", required=True, max_length=40),
            F("category", max_length=40),
            F("status", "enum", choices=CONTENT_STATUSES),
            F("requested_at", "date"),
            F("due_date", "date"),
            F("published_at", "date"),
            F("url", max_length=2000),
        ),
        "Content pieces: articles, e-books, case studies, webinar recordings, videos.",
    ),
    "deals": KindSpec(
        "deals",
        (
            F("external_id", required=True, max_length=120),
            F("name", required=True, max_length=200),
            *_ACCOUNT_REFS,
            F("amount", "decimal", minimum=0),
            F("currency", max_length=3),
            F("stage", required=True, max_length=40),
            F("outcome", "enum", choices=DEAL_OUTCOMES, help="open, won or lost; default open"),
            F("lost_reason", max_length=200),
            F("created_on", "date", help="Defaults to closed_on when empty"),
            F("expected_close_on", "date"),
            F("closed_on", "date", help="Defaults to expected_close_on for won and lost deals"),
            _OWNER,
            F("source", max_length=80),
            F("campaign", max_length=120, help="External id of the campaign"),
            F("contacts", "list", help="Contacts on the deal: e-mail or external id, ';'-separated, "
              "each optionally ':role' (decision_maker, champion, influencer, user)"),
        ),
        "Deals (opportunities). Won deals make their contacts customers.",
    ),
    "stage_changes": KindSpec(
        "stage_changes",
        (
            F("external_id", max_length=120, help="Derived from the row when absent"),
            *_CONTACT_REFS,
            F("from_stage", max_length=40),
            F("to_stage", required=True, max_length=40),
            F("changed_at", "datetime", required=True),
            F("actor_email", "email"),
            F("actor_rule", max_length=120),
            F("reason"),
        ),
        "Lifecycle history: one move of one contact per row.",
        one_of=(("contact_email", "contact_external_id"),),
    ),
    "deal_stage_changes": KindSpec(
        "deal_stage_changes",
        (
            F("deal_external_id", required=True, max_length=120,
              help="External id of a deal imported before (same source system, else any if only one has it)"),
            F("from_stage", max_length=40),
            F("to_stage", required=True, max_length=40),
            F("changed_on", "date", required=True, help="The day the deal entered to_stage"),
        ),
        "Pipeline stage history of deals, one move per row (a CRM's deal stage history or opportunity history "
        "export). Kept as history for the forecast; the deal's current stage comes from the deals file.",
    ),
}

KINDS: tuple[str, ...] = tuple(KIND_SPECS)
