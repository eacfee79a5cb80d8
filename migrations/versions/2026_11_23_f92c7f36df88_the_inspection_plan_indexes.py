"""the inspection plan's indexes

Holders without a history that scores are read in score order (special categories,
cross-border, largest subject bucket) and then in the results' order (sort name, number):
one short range of this index per combination, so a page of the plan does not read the whole
register. The plan's count of the holders it ranks, by region or sector, reads
ix_register_entries_status_place alone. Plain CREATE INDEX (no batch rebuild: on SQLite that
would drop the search triggers).

Revision ID: f92c7f36df88
Revises: fb3ce23c4776
Create Date: 2026-11-23 07:10:24.662545

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "f92c7f36df88"
down_revision = "fb3ce23c4776"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_register_entries_plan",
        "register_entries",
        ["special_categories", "cross_border", "max_subjects", "sort_name", "registration_number"],
        unique=False,
    )
    op.create_index(
        "ix_register_entries_status_place",
        "register_entries",
        ["status", "region_code", "sector_code"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_register_entries_status_place", table_name="register_entries")
    op.drop_index("ix_register_entries_plan", table_name="register_entries")
