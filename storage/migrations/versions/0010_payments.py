"""payments: payment methods, intents, charges, refunds, disputes, webhooks

Tables of the Payment Service: payment_methods, payments, payment_charges, payment_refunds,
payment_disputes and payment_webhooks, and those of its sandbox processor: sandbox_cards,
sandbox_intents, sandbox_refunds and sandbox_webhooks. Hand-written from the models, in
the style of 0008.

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa
import storage.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_methods',
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('brand', sa.String(length=16), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('exp_month', sa.Integer(), nullable=False),
    sa.Column('exp_year', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_methods')),
    sa.UniqueConstraint('token', name=op.f('uq_payment_methods_token'))
    )
    with op.batch_alter_table('payment_methods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_methods_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_methods_owner_id'), ['owner_id'], unique=False)

    op.create_table('payment_webhooks',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('received_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_webhooks'))
    )
    op.create_table('sandbox_cards',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('brand', sa.String(length=16), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('exp_month', sa.Integer(), nullable=False),
    sa.Column('exp_year', sa.Integer(), nullable=False),
    sa.Column('behaviour', sa.String(length=24), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_sandbox_cards'))
    )
    op.create_table('sandbox_webhooks',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('intent_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dead_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_sandbox_webhooks')),
    sa.UniqueConstraint('id', name=op.f('uq_sandbox_webhooks_id'))
    )
    with op.batch_alter_table('sandbox_webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_webhooks_delivered_at'), ['delivered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sandbox_webhooks_intent_id'), ['intent_id'], unique=False)

    op.create_table('payments',
    sa.Column('booking_id', sa.Uuid(), nullable=False),
    sa.Column('active_booking_id', sa.Uuid(), nullable=True),
    sa.Column('payer_id', sa.Uuid(), nullable=False),
    sa.Column('method_id', sa.Uuid(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('provider_ref', sa.String(length=64), nullable=True),
    sa.Column('next_action_url', sa.String(length=300), nullable=True),
    sa.Column('action_expires_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.JSON(), nullable=True),
    sa.Column('cancellation_reason', sa.String(length=32), nullable=True),
    sa.Column('captured_minor', sa.BigInteger(), nullable=False),
    sa.Column('fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('refunded_minor', sa.BigInteger(), nullable=False),
    sa.Column('charged_back_minor', sa.BigInteger(), nullable=False),
    sa.Column('succeeded_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('canceled_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'succeeded', 'failed', 'canceled')", name=op.f('ck_payments_status_known')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_payments_amount_positive')),
    sa.CheckConstraint('captured_minor <= amount_minor AND refunded_minor + charged_back_minor <= captured_minor', name=op.f('ck_payments_refunds_within_capture')),
    sa.CheckConstraint('captured_minor >= 0 AND fee_minor >= 0 AND refunded_minor >= 0 AND charged_back_minor >= 0', name=op.f('ck_payments_sums_not_negative')),
    sa.ForeignKeyConstraint(['method_id'], ['payment_methods.id'], name=op.f('fk_payments_method_id_payment_methods')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('active_booking_id', name=op.f('uq_payments_active_booking_id')),
    sa.UniqueConstraint('provider_ref', name=op.f('uq_payments_provider_ref'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_payer_id'), ['payer_id'], unique=False)

    op.create_table('sandbox_intents',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('card_token', sa.String(length=64), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('behaviour', sa.String(length=24), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('return_url', sa.String(length=300), nullable=False),
    sa.Column('charge_id', sa.String(length=64), nullable=True),
    sa.Column('fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('refunded_minor', sa.BigInteger(), nullable=False),
    sa.Column('dispute_id', sa.String(length=64), nullable=True),
    sa.Column('dispute_status', sa.String(length=16), nullable=True),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0 AND refunded_minor >= 0 AND refunded_minor <= amount_minor', name=op.f('ck_sandbox_intents_amounts_valid')),
    sa.ForeignKeyConstraint(['card_token'], ['sandbox_cards.token'], name=op.f('fk_sandbox_intents_card_token_sandbox_cards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_intents')),
    sa.UniqueConstraint('reference', name=op.f('uq_sandbox_intents_reference'))
    )
    op.create_table('payment_charges',
    sa.Column('payment_id', sa.Uuid(), nullable=False),
    sa.Column('provider_ref', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('failure_code', sa.String(length=40), nullable=True),
    sa.Column('decline_code', sa.String(length=40), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('succeeded', 'failed')", name=op.f('ck_payment_charges_status_known')),
    sa.CheckConstraint('amount_minor > 0 AND fee_minor >= 0', name=op.f('ck_payment_charges_amounts_valid')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_charges_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_charges')),
    sa.UniqueConstraint('provider_ref', name=op.f('uq_payment_charges_provider_ref'))
    )
    with op.batch_alter_table('payment_charges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_charges_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_charges_payment_id'), ['payment_id'], unique=False)

    op.create_table('payment_disputes',
    sa.Column('payment_id', sa.Uuid(), nullable=False),
    sa.Column('provider_ref', sa.String(length=64), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('closed_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('needs_response', 'under_review', 'won', 'lost')", name=op.f('ck_payment_disputes_status_known')),
    sa.CheckConstraint('amount_minor > 0 AND fee_minor >= 0', name=op.f('ck_payment_disputes_amounts_valid')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_disputes_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_disputes')),
    sa.UniqueConstraint('provider_ref', name=op.f('uq_payment_disputes_provider_ref'))
    )
    with op.batch_alter_table('payment_disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_disputes_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_disputes_payment_id'), ['payment_id'], unique=False)

    op.create_table('payment_refunds',
    sa.Column('payment_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('provider_ref', sa.String(length=64), nullable=True),
    sa.Column('ledger_transfer_id', sa.Uuid(), nullable=True),
    sa.Column('requested_by', sa.Uuid(), nullable=True),
    sa.Column('failure_code', sa.String(length=60), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name=op.f('ck_payment_refunds_status_known')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_payment_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_refunds_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_refunds')),
    sa.UniqueConstraint('key', name=op.f('uq_payment_refunds_key')),
    sa.UniqueConstraint('provider_ref', name=op.f('uq_payment_refunds_provider_ref'))
    )
    with op.batch_alter_table('payment_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_refunds_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_refunds_payment_id'), ['payment_id'], unique=False)

    op.create_table('sandbox_refunds',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('intent_id', sa.String(length=64), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_sandbox_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['intent_id'], ['sandbox_intents.id'], name=op.f('fk_sandbox_refunds_intent_id_sandbox_intents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_refunds')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_sandbox_refunds_idempotency_key'))
    )
    with op.batch_alter_table('sandbox_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_refunds_intent_id'), ['intent_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sandbox_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_refunds_intent_id'))

    op.drop_table('sandbox_refunds')
    with op.batch_alter_table('payment_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_refunds_payment_id'))
        batch_op.drop_index(batch_op.f('ix_payment_refunds_created_at'))

    op.drop_table('payment_refunds')
    with op.batch_alter_table('payment_disputes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_disputes_payment_id'))
        batch_op.drop_index(batch_op.f('ix_payment_disputes_created_at'))

    op.drop_table('payment_disputes')
    with op.batch_alter_table('payment_charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_charges_payment_id'))
        batch_op.drop_index(batch_op.f('ix_payment_charges_created_at'))

    op.drop_table('payment_charges')
    op.drop_table('sandbox_intents')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_payer_id'))
        batch_op.drop_index(batch_op.f('ix_payments_created_at'))
        batch_op.drop_index(batch_op.f('ix_payments_booking_id'))

    op.drop_table('payments')
    with op.batch_alter_table('sandbox_webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_webhooks_intent_id'))
        batch_op.drop_index(batch_op.f('ix_sandbox_webhooks_delivered_at'))

    op.drop_table('sandbox_webhooks')
    op.drop_table('sandbox_cards')
    op.drop_table('payment_webhooks')
    with op.batch_alter_table('payment_methods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_methods_owner_id'))
        batch_op.drop_index(batch_op.f('ix_payment_methods_created_at'))

    op.drop_table('payment_methods')
