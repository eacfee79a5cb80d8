"""The models, one module per aggregate; importing this package registers them all."""

from register.models.activity import ActivityChainHead, ActivityEntry
from register.models.notifications import DeliveryStatus, Notification
from register.models.users import STAFF_ROLES, RecoveryCode, Role, User

__all__ = [
    "STAFF_ROLES",
    "ActivityChainHead",
    "ActivityEntry",
    "DeliveryStatus",
    "Notification",
    "RecoveryCode",
    "Role",
    "User",
]
