"""encrypted user fields and data keys

Users' e-mail (with a unique full-length blind index), name and TOTP secret move to encrypted
columns; activity-log entries gain an HMAC under the audit key. Existing rows are encrypted here, with the keys of REGISTER_KEYS_FILE: this data step
uses the application's crypto layer (a migration that only changed the schema would not).

Revision ID: 7aee732b33dd
Revises: f6d31054a443
Create Date: 2026-11-22 23:40:56.974877

"""
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = '7aee732b33dd'
down_revision = 'f6d31054a443'
branch_labels = None
depends_on = None

FIELDS = ("email", "full_name", "totp_secret")


def _keyring():
    from register.crypto import keyring

    return keyring.load(Path(current_app.config["REGISTER_KEYS_FILE"]))


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def upgrade():
    op.create_table('data_keys',
    sa.Column('wrapped', sa.LargeBinary(length=128), nullable=False),
    sa.Column('kek_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active_marker', sa.Integer(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_keys')),
    sa.UniqueConstraint('active_marker', name=op.f('uq_data_keys_active_marker'))
    )
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_keys_kek_id'), ['kek_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('email_index', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('full_name_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('totp_secret_encrypted', sa.LargeBinary(), nullable=True))

    _encrypt_existing_rows()

    with op.batch_alter_table('activity_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=True))
    _authenticate_existing_entries()
    with op.batch_alter_table('activity_entries', schema=None) as batch_op:
        batch_op.alter_column('mac', existing_type=sa.String(length=64), nullable=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('email_encrypted', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column('email_index', existing_type=sa.LargeBinary(length=32), nullable=False)
        batch_op.alter_column('full_name_encrypted', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_users_email'), type_='unique')
        batch_op.create_index(batch_op.f('ix_users_email_index'), ['email_index'], unique=True)
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('email')
        batch_op.drop_column('full_name')


def _authenticate_existing_entries():
    import hashlib
    import hmac

    connection = op.get_bind()
    entries = sa.table(
        'activity_entries', sa.column('id', sa.Uuid()), sa.column('entry_hash', sa.String()),
        sa.column('mac', sa.String()),
    )
    rows = connection.execute(sa.select(entries.c.id, entries.c.entry_hash)).all()
    if not rows:
        return
    audit_key = _keyring().audit_key
    for row in rows:
        mac = hmac.new(audit_key, row.entry_hash.encode('ascii'), hashlib.sha256).hexdigest()
        connection.execute(sa.update(entries).where(entries.c.id == row.id).values(mac=mac))


def _encrypt_existing_rows():
    from register.crypto import blind, envelope
    from register.crypto.datakeys import derive_column_aead, wrap

    connection = op.get_bind()
    users = sa.table(
        'users', sa.column('id', sa.Uuid()), sa.column('email', sa.String()),
        sa.column('full_name', sa.String()), sa.column('totp_secret', sa.String()),
        sa.column('email_encrypted', sa.LargeBinary()), sa.column('email_index', sa.LargeBinary()),
        sa.column('full_name_encrypted', sa.LargeBinary()),
        sa.column('totp_secret_encrypted', sa.LargeBinary()),
    )
    rows = connection.execute(
        sa.select(users.c.id, users.c.email, users.c.full_name, users.c.totp_secret)
    ).all()
    if not rows:
        return
    keys = _keyring()
    key_id, data_key = uuid.uuid4(), os.urandom(32)
    now = datetime.now(UTC)
    data_keys = sa.table(
        'data_keys', sa.column('id', sa.Uuid()), sa.column('wrapped', sa.LargeBinary()),
        sa.column('kek_id', sa.String()), sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('activated_at', sa.DateTime(timezone=True)),
        sa.column('active_marker', sa.Integer()),
    )
    connection.execute(sa.insert(data_keys).values(
        id=key_id, wrapped=wrap(keys, key_id, data_key), kek_id=keys.active_kek_id,
        created_at=now, activated_at=now, active_marker=1,
    ))
    for row in rows:
        row_id = _uuid(row.id)
        values = {}
        for field in FIELDS:
            plaintext = getattr(row, field)
            column = f"{field}_encrypted"
            values[column] = None if plaintext is None else envelope.seal(
                derive_column_aead(data_key, 'users', column), key_id, plaintext.encode(),
                'users', column, row_id,
            )
        values['email_index'] = blind.blind_index(
            keys.blind_index_key, 'users', 'email_index', blind.normalise_email(row.email), 32
        )
        connection.execute(sa.update(users).where(users.c.id == row.id).values(**values))


def downgrade():
    with op.batch_alter_table('activity_entries', schema=None) as batch_op:
        batch_op.drop_column('mac')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('full_name', sa.VARCHAR(length=200), nullable=True))
        batch_op.add_column(sa.Column('email', sa.VARCHAR(length=254), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.VARCHAR(length=64), nullable=True))

    _decrypt_existing_rows()

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('full_name', existing_type=sa.VARCHAR(length=200), nullable=False)
        batch_op.alter_column('email', existing_type=sa.VARCHAR(length=254), nullable=False)
        batch_op.drop_index(batch_op.f('ix_users_email_index'))
        batch_op.create_unique_constraint(batch_op.f('uq_users_email'), ['email'])
        batch_op.drop_column('totp_secret_encrypted')
        batch_op.drop_column('full_name_encrypted')
        batch_op.drop_column('email_index')
        batch_op.drop_column('email_encrypted')

    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_keys_kek_id'))

    op.drop_table('data_keys')


def _decrypt_existing_rows():
    from register.crypto import envelope
    from register.crypto.datakeys import derive_column_aead, unwrap

    connection = op.get_bind()
    users = sa.table(
        'users', sa.column('id', sa.Uuid()), sa.column('email', sa.String()),
        sa.column('full_name', sa.String()), sa.column('totp_secret', sa.String()),
        sa.column('email_encrypted', sa.LargeBinary()),
        sa.column('full_name_encrypted', sa.LargeBinary()),
        sa.column('totp_secret_encrypted', sa.LargeBinary()),
    )
    rows = connection.execute(sa.select(users)).all()
    if not rows:
        return
    keys = _keyring()

    class _Row:  # what unwrap() reads of a data-key row
        def __init__(self, record):
            self.id, self.wrapped, self.kek_id = _uuid(record.id), record.wrapped, record.kek_id

    data_keys = {
        _uuid(record.id): unwrap(keys, _Row(record))
        for record in connection.execute(sa.text("SELECT id, wrapped, kek_id FROM data_keys"))
    }
    for row in rows:
        row_id = _uuid(row.id)
        values = {}
        for field in FIELDS:
            column = f"{field}_encrypted"
            stored = getattr(row, column)
            if stored is None:
                values[field] = None
                continue
            parsed = envelope.parse(stored)
            aead = derive_column_aead(data_keys[parsed.key_id], 'users', column)
            values[field] = envelope.open_sealed(aead, parsed, 'users', column, row_id).decode()
        connection.execute(sa.update(users).where(users.c.id == row.id).values(**values))
