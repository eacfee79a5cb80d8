"""The models, one module per aggregate; importing this package registers them all."""

from register.models.notifications import DeliveryStatus, Notification
from register.models.users import Role, User

__all__ = ["DeliveryStatus", "Notification", "Role", "User"]
