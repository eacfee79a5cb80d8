"""reminders: the reminders already sent, so that each is sent once

`reminders send` (run daily by a timer) tells holders of orders due soon or overdue and staff
of review and triage deadlines. Each reminder is claimed by inserting a row keyed by (kind,
object, stage, recipient) in the transaction that writes its notification: a second or
concurrent run finds the row and sends nothing. `object_id` has no foreign key: it names an
inspection order, a declaration, a breach report or a complaint, as `kind` says.

Revision ID: fb3ce23c4776
Revises: 8b0c52616e84
Create Date: 2026-11-23 06:26:01.940594

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "fb3ce23c4776"
down_revision = "8b0c52616e84"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sent_reminders",
        sa.Column(
            "kind",
            sa.Enum(
                "order",
                "review",
                "breach_triage",
                "complaint_triage",
                name="reminderkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum("due_soon", "overdue", name="reminderstage", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["users.id"],
            name=op.f("fk_sent_reminders_recipient_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_reminders")),
        sa.UniqueConstraint(
            "kind", "object_id", "stage", "recipient_id", name="uq_sent_reminders_reminder"
        ),
    )
    with op.batch_alter_table("sent_reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sent_reminders_recipient_id"), ["recipient_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("sent_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_reminders_recipient_id"))
    op.drop_table("sent_reminders")
