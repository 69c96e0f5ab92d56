"""qr codes

Tables of the QR Code Service: qr_codes, qr_scan_attempts, qr_signing_keys.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

import storage.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

DT = storage.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('qr_codes',
    sa.Column('step_id', sa.Uuid(), nullable=False),
    sa.Column('shipment_id', sa.Uuid(), nullable=False),
    sa.Column('package_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('scanner_role', sa.String(length=16), nullable=False),
    sa.Column('scanner_id', sa.Uuid(), nullable=True),
    sa.Column('issued_by', sa.Uuid(), nullable=False),
    sa.Column('kid', sa.String(length=32), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('payload_sha256', sa.String(length=64), nullable=False),
    sa.Column('expires_at', DT, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('used_at', DT, nullable=True),
    sa.Column('used_by_scan', sa.Uuid(), nullable=True),
    sa.Column('created_at', DT, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qr_codes'))
    )
    with op.batch_alter_table('qr_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qr_codes_issued_by'), ['issued_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_qr_codes_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_qr_codes_step_id'), ['step_id'], unique=False)
        batch_op.create_index('uq_qr_codes_one_active', ['step_id', 'kind'], unique=True,
                              sqlite_where=sa.text("status = 'active'"),
                              postgresql_where=sa.text("status = 'active'"))

    op.create_table('qr_scan_attempts',
    sa.Column('qr_id', sa.Uuid(), nullable=True),
    sa.Column('step_id', sa.Uuid(), nullable=False),
    sa.Column('scanner_id', sa.Uuid(), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('payload_sha256', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', DT, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qr_scan_attempts'))
    )
    with op.batch_alter_table('qr_scan_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qr_scan_attempts_qr_id'), ['qr_id'], unique=False)

    op.create_table('qr_signing_keys',
    sa.Column('kid', sa.String(length=32), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('public_pem', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', DT, nullable=False),
    sa.Column('retired_at', DT, nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_qr_signing_keys'))
    )


def downgrade() -> None:
    op.drop_table('qr_signing_keys')
    with op.batch_alter_table('qr_scan_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qr_scan_attempts_qr_id'))
    op.drop_table('qr_scan_attempts')
    with op.batch_alter_table('qr_codes', schema=None) as batch_op:
        batch_op.drop_index('uq_qr_codes_one_active')
        batch_op.drop_index(batch_op.f('ix_qr_codes_step_id'))
        batch_op.drop_index(batch_op.f('ix_qr_codes_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_qr_codes_issued_by'))
    op.drop_table('qr_codes')
