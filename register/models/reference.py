"""Reference lists: stable codes with Kyrgyz, Russian and English labels, editable by admins.

One table holds every list (legal forms, sectors, regions, purposes, …). A code once used is
never deleted, only retired: old records keep pointing at it, new forms stop offering it.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from register.database import TimestampMixin
from register.extensions import Model


class ReferenceList(enum.StrEnum):
    """The lists, by code."""

    LEGAL_FORM = "legal_form"
    OWNERSHIP_FORM = "ownership_form"
    SECTOR = "sector"
    REGION = "region"
    PURPOSE = "purpose"
    LEGAL_BASIS = "legal_basis"
    DATA_ITEM = "data_item"
    SUBJECT_CATEGORY = "subject_category"
    SUBJECT_BUCKET = "subject_bucket"
    SOURCE = "source"
    RECIPIENT_CATEGORY = "recipient_category"
    SECURITY_MEASURE = "security_measure"
    STORAGE_FORM = "storage_form"
    LAW_ARTICLE = "law_article"


class ReferenceItem(TimestampMixin, Model):
    """One entry of one list: a code and its labels in the three languages."""

    __tablename__ = "reference_items"
    __table_args__ = (
        sa.UniqueConstraint("list_code", "code", name="uq_reference_items_list_code_code"),
        sa.Index("ix_reference_items_list_order", "list_code", "sort_order"),
    )

    list_code: Mapped[str] = mapped_column(sa.String(40))
    code: Mapped[str] = mapped_column(sa.String(40))
    label_ky: Mapped[str] = mapped_column(sa.String(300))
    label_ru: Mapped[str] = mapped_column(sa.String(300))
    label_en: Mapped[str] = mapped_column(sa.String(300))
    sort_order: Mapped[int] = mapped_column(default=0)
    # Data items: whether the item is a special category of personal data.
    is_special_category: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Legal bases: whether the basis allows processing special categories.
    valid_for_special_categories: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    # Subject-count buckets: inclusive lower bound, upper bound (None: no upper bound).
    lower_bound: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    upper_bound: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_retired(self) -> bool:
        """Retired items are kept for old records but not offered in forms."""
        return self.retired_at is not None

    def label(self, language: str) -> str:
        """The label in `language` (ky, ru or en), falling back to Russian, then the code."""
        value = getattr(self, f"label_{language}", None) or self.label_ru or self.code
        return str(value)
