"""breach reports (with follow-ups and the agency's questions) and complaints

Breach reports on the 72-hour clock and the agency's triage deadline in working days; their
follow-ups and questions attach to the report. Complaints keep only a hash of their secret
link's token. Confidential text is stored encrypted (`*_encrypted` columns); new tables only,
so nothing existing is rewritten and the downgrade drops them.

Revision ID: a1ac576a1548
Revises: 5c1e0d7a9b21
Create Date: 2026-11-23 03:47:04.783994

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1ac576a1548'
down_revision = '5c1e0d7a9b21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('breach_reports',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('filed_by_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Enum('received', 'assessing', 'closed', 'inspection_requested', name='breachstatus', native_enum=False, length=24), nullable=False),
    sa.Column('lock_version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filed_late', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('nature_codes', sa.JSON(), nullable=False),
    sa.Column('data_item_codes', sa.JSON(), nullable=False),
    sa.Column('subject_category_codes', sa.JSON(), nullable=False),
    sa.Column('subjects_affected', sa.BigInteger(), nullable=True),
    sa.Column('records_affected', sa.BigInteger(), nullable=True),
    sa.Column('subjects_told', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('subjects_told_on', sa.Date(), nullable=True),
    sa.Column('triage_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assignee_id', sa.Uuid(), nullable=True),
    sa.Column('assessing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Uuid(), nullable=True),
    sa.Column('late_reason_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('description_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('data_details_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('consequences_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('measures_taken_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('subjects_notice_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('contact_name_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('contact_phone_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('contact_email_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('decision_grounds_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_breach_reports_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_breach_reports_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_breach_reports_filed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_breach_reports_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breach_reports'))
    )
    with op.batch_alter_table('breach_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breach_reports_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_breach_reports_filed_at', ['filed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_breach_reports_filed_late'), ['filed_late'], unique=False)
        batch_op.create_index('ix_breach_reports_organisation_filed_at', ['organisation_id', 'filed_at'], unique=False)
        batch_op.create_index('ix_breach_reports_status_filed_at', ['status', 'filed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_breach_reports_triage_due_at'), ['triage_due_at'], unique=False)

    op.create_table('complaints',
    sa.Column('receipt_number', sa.String(length=20), nullable=False),
    sa.Column('access_token_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('received', 'assessing', 'upheld', 'not_upheld', 'inspection_requested', name='complaintstatus', native_enum=False, length=24), nullable=False),
    sa.Column('lock_version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=True),
    sa.Column('registration_number', sa.String(length=40), nullable=True),
    sa.Column('consents_to_contact', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assignee_id', sa.Uuid(), nullable=True),
    sa.Column('assessing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Uuid(), nullable=True),
    sa.Column('grounds', sa.Text(), nullable=True),
    sa.Column('processor_name_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('processor_tin_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('what_happened_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('complainant_name_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('complainant_email_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('complainant_phone_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_complaints_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_complaints_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_complaints_organisation_id_organisations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints')),
    sa.UniqueConstraint('access_token_hash', name=op.f('uq_complaints_access_token_hash')),
    sa.UniqueConstraint('receipt_number', name=op.f('uq_complaints_receipt_number'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_complaints_received_at', ['received_at'], unique=False)
        batch_op.create_index('ix_complaints_status_received_at', ['status', 'received_at'], unique=False)

    op.create_table('breach_follow_ups',
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filed_by_id', sa.Uuid(), nullable=True),
    sa.Column('subjects_affected', sa.BigInteger(), nullable=True),
    sa.Column('records_affected', sa.BigInteger(), nullable=True),
    sa.Column('subjects_told_on', sa.Date(), nullable=True),
    sa.Column('information_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('measures_taken_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_breach_follow_ups_filed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['breach_reports.id'], name=op.f('fk_breach_follow_ups_report_id_breach_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breach_follow_ups'))
    )
    with op.batch_alter_table('breach_follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breach_follow_ups_report_id'), ['report_id'], unique=False)

    op.create_table('breach_questions',
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('asked_by_id', sa.Uuid(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Uuid(), nullable=True),
    sa.Column('question_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('answer_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_breach_questions_answered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['asked_by_id'], ['users.id'], name=op.f('fk_breach_questions_asked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['breach_reports.id'], name=op.f('fk_breach_questions_report_id_breach_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breach_questions'))
    )
    with op.batch_alter_table('breach_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breach_questions_report_id'), ['report_id'], unique=False)



def downgrade():
    with op.batch_alter_table('breach_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breach_questions_report_id'))

    op.drop_table('breach_questions')
    with op.batch_alter_table('breach_follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breach_follow_ups_report_id'))

    op.drop_table('breach_follow_ups')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_status_received_at')
        batch_op.drop_index('ix_complaints_received_at')
        batch_op.drop_index(batch_op.f('ix_complaints_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_due_at'))
        batch_op.drop_index(batch_op.f('ix_complaints_assignee_id'))

    op.drop_table('complaints')
    with op.batch_alter_table('breach_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breach_reports_triage_due_at'))
        batch_op.drop_index('ix_breach_reports_status_filed_at')
        batch_op.drop_index('ix_breach_reports_organisation_filed_at')
        batch_op.drop_index(batch_op.f('ix_breach_reports_filed_late'))
        batch_op.drop_index('ix_breach_reports_filed_at')
        batch_op.drop_index(batch_op.f('ix_breach_reports_assignee_id'))

    op.drop_table('breach_reports')
