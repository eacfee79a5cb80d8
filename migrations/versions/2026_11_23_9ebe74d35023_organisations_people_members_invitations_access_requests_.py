"""organisations, people, members, invitations, access requests, documents, reference lists

Revision ID: 9ebe74d35023
Revises: 7aee732b33dd
Create Date: 2026-11-23 00:02:27.578106

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9ebe74d35023'
down_revision = '7aee732b33dd'
branch_labels = None
depends_on = None


def upgrade():
    # Notifications may go to an address without an account (an invitation to a colleague).
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('recipient_id', existing_type=sa.Uuid(), nullable=True)
        batch_op.add_column(sa.Column('recipient_address_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('locale', sa.String(length=5), nullable=True))

    op.create_table('reference_items',
    sa.Column('list_code', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label_ky', sa.String(length=300), nullable=False),
    sa.Column('label_ru', sa.String(length=300), nullable=False),
    sa.Column('label_en', sa.String(length=300), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('is_special_category', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('valid_for_special_categories', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('lower_bound', sa.BigInteger(), nullable=True),
    sa.Column('upper_bound', sa.BigInteger(), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_items')),
    sa.UniqueConstraint('list_code', 'code', name='uq_reference_items_list_code_code')
    )
    with op.batch_alter_table('reference_items', schema=None) as batch_op:
        batch_op.create_index('ix_reference_items_list_order', ['list_code', 'sort_order'], unique=False)

    op.create_table('organisations',
    sa.Column('status', sa.Enum('unverified', 'verified', name='organisationstatus', native_enum=False, length=20), nullable=False),
    sa.Column('origin', sa.Enum('online', 'paper', 'imported', name='organisationorigin', native_enum=False, length=20), nullable=False),
    sa.Column('legal_name', sa.String(length=500), nullable=False),
    sa.Column('short_name', sa.String(length=200), nullable=True),
    sa.Column('public_tin', sa.String(length=14), nullable=True),
    sa.Column('legal_form_code', sa.String(length=40), nullable=False),
    sa.Column('ownership_form_code', sa.String(length=40), nullable=False),
    sa.Column('subordination', sa.String(length=500), nullable=True),
    sa.Column('sector_code', sa.String(length=40), nullable=False),
    sa.Column('region_code', sa.String(length=10), nullable=False),
    sa.Column('legal_address', sa.String(length=500), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('tin_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('tin_index', sa.LargeBinary(length=32), nullable=False),
    sa.Column('actual_address_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_organisations_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisations_public_tin'), ['public_tin'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_sector_code'), ['sector_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_tin_index'), ['tin_index'], unique=True)

    op.create_table('access_requests',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('requester_id', sa.Uuid(), nullable=False),
    sa.Column('addressed_to', sa.Enum('owners', 'agency', name='accessrequestaddressee', native_enum=False, length=20), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'refused', 'withdrawn', name='accessrequeststatus', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Uuid(), nullable=True),
    sa.Column('message_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('decision_reason_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_access_requests_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_access_requests_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_access_requests_requester_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_requests'))
    )
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_requests_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_requests_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_requests_status'), ['status'], unique=False)

    op.create_table('documents',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('authority', name='documentkind', native_enum=False, length=20), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filename_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('content_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_documents_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_documents_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('invitations',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.Enum('owner', 'member', name='memberrole', native_enum=False, length=20), nullable=False),
    sa.Column('invited_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_by_id', sa.Uuid(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('email_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_invitations_accepted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_invitations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('memberships',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.Enum('owner', 'member', name='memberrole', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_memberships_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('organisation_id', 'user_id', name='uq_memberships_org_user')
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_user_id'), ['user_id'], unique=False)

    op.create_table('organisation_people',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('head', 'responsible', name='personkind', native_enum=False, length=20), nullable=False),
    sa.Column('consents_to_publication', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('full_name_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('position_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('pin_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('pin_index', sa.LargeBinary(length=2), nullable=True),
    sa.Column('phone_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('email_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_people_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_people')),
    sa.UniqueConstraint('organisation_id', 'kind', name='uq_organisation_people_kind')
    )
    with op.batch_alter_table('organisation_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_people_pin_index'), ['pin_index'], unique=False)

    # ### end Alembic commands ###


def downgrade():
    op.execute("DELETE FROM notifications WHERE recipient_id IS NULL")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('locale')
        batch_op.drop_column('recipient_address_encrypted')
        batch_op.alter_column('recipient_id', existing_type=sa.Uuid(), nullable=False)

    with op.batch_alter_table('organisation_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_people_pin_index'))

    op.drop_table('organisation_people')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_user_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_organisation_id'))

    op.drop_table('memberships')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_organisation_id'))

    op.drop_table('invitations')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_organisation_id'))

    op.drop_table('documents')
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_requests_status'))
        batch_op.drop_index(batch_op.f('ix_access_requests_requester_id'))
        batch_op.drop_index(batch_op.f('ix_access_requests_organisation_id'))

    op.drop_table('access_requests')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_tin_index'))
        batch_op.drop_index(batch_op.f('ix_organisations_sector_code'))
        batch_op.drop_index(batch_op.f('ix_organisations_region_code'))
        batch_op.drop_index(batch_op.f('ix_organisations_public_tin'))

    op.drop_table('organisations')
    with op.batch_alter_table('reference_items', schema=None) as batch_op:
        batch_op.drop_index('ix_reference_items_list_order')

    op.drop_table('reference_items')
    # ### end Alembic commands ###
