"""customs: declarations

Table of the Customs Service: customs_declarations. Hand-written from the model, in the
style of 0005.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa
import storage.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customs_declarations',
    sa.Column('shipment_id', sa.Uuid(), nullable=False),
    sa.Column('sender_id', sa.Uuid(), nullable=False),
    sa.Column('content_type', sa.String(length=16), nullable=False),
    sa.Column('incoterm', sa.String(length=3), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_minor', sa.Integer(), nullable=False),
    sa.Column('duties', sa.JSON(), nullable=True),
    sa.Column('form', sa.String(length=4), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total_minor >= 0', name=op.f('ck_customs_declarations_total_not_negative')),
    sa.CheckConstraint("form IN ('CN22', 'CN23')", name=op.f('ck_customs_declarations_form_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customs_declarations')),
    sa.UniqueConstraint('shipment_id', name=op.f('uq_customs_declarations_shipment_id'))
    )
    with op.batch_alter_table('customs_declarations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customs_declarations_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_customs_declarations_sender_id'), ['sender_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customs_declarations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customs_declarations_sender_id'))
        batch_op.drop_index(batch_op.f('ix_customs_declarations_created_at'))

    op.drop_table('customs_declarations')
