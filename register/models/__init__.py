"""The models, one module per aggregate; importing this package registers them all."""

from register.models.activity import ActivityChainHead, ActivityEntry
from register.models.notifications import DeliveryStatus, Notification
from register.models.organisations import (
    INDIVIDUAL_ENTREPRENEUR,
    AccessRequest,
    AccessRequestAddressee,
    AccessRequestStatus,
    Document,
    DocumentKind,
    Invitation,
    MemberRole,
    Membership,
    Organisation,
    OrganisationOrigin,
    OrganisationStatus,
    Person,
    PersonKind,
)
from register.models.reference import ReferenceItem, ReferenceList
from register.models.users import STAFF_ROLES, RecoveryCode, Role, User

__all__ = [
    "INDIVIDUAL_ENTREPRENEUR",
    "STAFF_ROLES",
    "AccessRequest",
    "AccessRequestAddressee",
    "AccessRequestStatus",
    "ActivityChainHead",
    "ActivityEntry",
    "DeliveryStatus",
    "Document",
    "DocumentKind",
    "Invitation",
    "MemberRole",
    "Membership",
    "Notification",
    "Organisation",
    "OrganisationOrigin",
    "OrganisationStatus",
    "Person",
    "PersonKind",
    "RecoveryCode",
    "ReferenceItem",
    "ReferenceList",
    "Role",
    "User",
]
