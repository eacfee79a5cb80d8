"""The activity log: append-only entries linked in a SHA-256 hash chain, and its one-row head.

Entries are written only by `register.services.activity`, which appends under a lock on the
chain head so that concurrent requests never fork the chain. The ORM refuses to update or
delete an entry; someone with direct database access can, and `activity verify` finds it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from register.database import utcnow
from register.extensions import Model

# The hash the first entry links to, and the id of the single chain-head row.
GENESIS_HASH = "0" * 64
CHAIN_HEAD_ID = uuid.UUID(int=1)


class ActivityEntry(Model):
    """One thing that happened: who did what to which object, linked to the entry before it."""

    __tablename__ = "activity_entries"
    __table_args__ = (sa.Index("ix_activity_entries_object", "object_type", "object_id"),)

    seq: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # No foreign key: an entry outlives the account it names.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True, default=None)
    # The actor's role at the time ("admin", "anonymous", "system"); never an e-mail or name.
    actor_label: Mapped[str] = mapped_column(sa.String(32))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    object_id: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    ip: Mapped[str | None] = mapped_column(sa.String(45), default=None)
    request_id: Mapped[str | None] = mapped_column(sa.String(32), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    entry_hash: Mapped[str] = mapped_column(sa.String(64))
    # HMAC-SHA256 of entry_hash under the audit key from the key file: someone who can write
    # to the database but has not the key cannot forge an entry, even with a correct chain.
    mac: Mapped[str] = mapped_column(sa.String(64))


class ActivityChainHead(Model):
    """The single row that holds the chain's last position and hash; appenders lock it."""

    __tablename__ = "activity_chain_head"

    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(sa.String(64), default=GENESIS_HASH)


@sa.event.listens_for(ActivityEntry, "before_update")
@sa.event.listens_for(ActivityEntry, "before_delete")
def _refuse_changes(mapper: Any, connection: Any, target: ActivityEntry) -> None:
    raise RuntimeError("activity entries are append-only")
