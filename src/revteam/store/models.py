"""Every table of the operational database, imported from its area (``store/tables/``): the one module
Alembic and the rest of revteam import models from.
"""

from __future__ import annotations

from revteam.store.tables.agreement import (  # noqa: F401
    SlaAgreement,
    SlaSignoff,
)
from revteam.store.tables.base import (  # noqa: F401
    NAMING,
    Base,
)
from revteam.store.tables.delivery import (  # noqa: F401
    GroupMembership,
    NotificationGroup,
    NotificationPreference,
    OutboxMessage,
    TouchReaction,
    UserChannel,
)
from revteam.store.tables.handoff import (  # noqa: F401
    Dispute,
    DisputeVote,
    Handoff,
    RejectReason,
    RoutingCredit,
    RoutingRuleRow,
)
from revteam.store.tables.people import (  # noqa: F401
    ROLES,
    Absence,
    ApiToken,
    ErasedIdentity,
    LoginThrottle,
    RepProfile,
    Team,
    User,
    WebSession,
)
from revteam.store.tables.privacy import (  # noqa: F401
    ErasedExternalId,
)
from revteam.store.tables.qualify import (  # noqa: F401
    ContactScore,
    ScoringModelRow,
    ScoringReview,
)
from revteam.store.tables.record import (  # noqa: F401
    CONSENT_VALUES,
    CONTENT_STATUSES,
    DEAL_OUTCOMES,
    DEAL_STAGE_SOURCES,
    SALES_TOUCH_TYPES,
    TOUCH_TYPES,
    Account,
    AuditEntry,
    Campaign,
    Contact,
    ContentAsset,
    ContentUsage,
    Deal,
    DealContact,
    DealStageChange,
    ImportRun,
    LifecycleStage,
    OwnerChange,
    StageChange,
    Target,
    Touchpoint,
)
from revteam.store.tables.requests import (  # noqa: F401
    IdempotentRequest,
)

__all__ = [
    "NAMING",
    "Base",
    "ROLES",
    "Team",
    "User",
    "WebSession",
    "ApiToken",
    "RepProfile",
    "Absence",
    "ErasedIdentity",
    "LoginThrottle",
    "TOUCH_TYPES",
    "SALES_TOUCH_TYPES",
    "CONTENT_STATUSES",
    "DEAL_OUTCOMES",
    "CONSENT_VALUES",
    "LifecycleStage",
    "Account",
    "Campaign",
    "ContentAsset",
    "Contact",
    "Touchpoint",
    "Deal",
    "DealContact",
    "DEAL_STAGE_SOURCES",
    "DealStageChange",
    "StageChange",
    "OwnerChange",
    "Target",
    "ImportRun",
    "AuditEntry",
    "ContentUsage",
    "ScoringModelRow",
    "ContactScore",
    "ScoringReview",
    "RoutingRuleRow",
    "RoutingCredit",
    "Handoff",
    "RejectReason",
    "Dispute",
    "DisputeVote",
    "SlaAgreement",
    "SlaSignoff",
    "OutboxMessage",
    "NotificationPreference",
    "NotificationGroup",
    "GroupMembership",
    "UserChannel",
    "ErasedExternalId",
    "TouchReaction",
    "IdempotentRequest",
]
