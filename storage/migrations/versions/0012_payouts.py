"""payouts: payouts, payout batches and the sandbox provider's payouts

Tables of the Payout Service: payout_batches, payouts and sandbox_payouts. Hand-written
from storage/models/payouts.py, in the style of 0008.

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa
import storage.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payout_batches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('submitted', sa.Integer(), nullable=False),
    sa.Column('paid', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.JSON(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_batches'))
    )
    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_batches_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_batches_requested_by'), ['requested_by'], unique=False)

    op.create_table('sandbox_payouts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.Uuid(), nullable=False),
    sa.Column('destination', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('failure_code', sa.String(length=40), nullable=True),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'in_transit', 'paid', 'failed', 'canceled')", name=op.f('ck_sandbox_payouts_status_known')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_sandbox_payouts_amount_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_payouts')),
    sa.UniqueConstraint('reference', name=op.f('uq_sandbox_payouts_reference'))
    )
    with op.batch_alter_table('sandbox_payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_payouts_created_at'), ['created_at'], unique=False)

    op.create_table('payouts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('destination', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('provider_ref', sa.String(length=64), nullable=True),
    sa.Column('failure_code', sa.String(length=40), nullable=True),
    sa.Column('failure_message', sa.String(length=200), nullable=True),
    sa.Column('batch_id', sa.Uuid(), nullable=True),
    sa.Column('hold_transfer_id', sa.Uuid(), nullable=False),
    sa.Column('resolve_transfer_id', sa.Uuid(), nullable=True),
    sa.Column('held_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('settled_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'in_transit', 'paid', 'failed', 'canceled')", name=op.f('ck_payouts_status_known')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_payouts_amount_positive')),
    sa.ForeignKeyConstraint(['batch_id'], ['payout_batches.id'], name=op.f('fk_payouts_batch_id_payout_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
    sa.UniqueConstraint('hold_transfer_id', name=op.f('uq_payouts_hold_transfer_id')),
    sa.UniqueConstraint('provider_ref', name=op.f('uq_payouts_provider_ref')),
    sa.UniqueConstraint('resolve_transfer_id', name=op.f('uq_payouts_resolve_transfer_id'))
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payouts_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payouts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payouts_status'), ['status'], unique=False)
        batch_op.create_index('ix_payouts_user_time', ['user_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index('ix_payouts_user_time')
        batch_op.drop_index(batch_op.f('ix_payouts_status'))
        batch_op.drop_index(batch_op.f('ix_payouts_created_at'))
        batch_op.drop_index(batch_op.f('ix_payouts_batch_id'))

    op.drop_table('payouts')
    with op.batch_alter_table('sandbox_payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_payouts_created_at'))

    op.drop_table('sandbox_payouts')
    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_batches_requested_by'))
        batch_op.drop_index(batch_op.f('ix_payout_batches_created_at'))

    op.drop_table('payout_batches')
