"""shipments: shipments and packages

Tables of the Shipment Service: shipments, packages, package_items, package_photos.
Hand-written from the models (autogenerate restricted to these tables), beside the other
services' 0006/0007 revisions branching from 0004.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import storage.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shipments',
    sa.Column('sender_id', sa.Uuid(), nullable=False),
    sa.Column('tracking_number', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('booking_id', sa.Uuid(), nullable=True),
    sa.Column('carrier_ids', sa.JSON(), nullable=False),
    sa.Column('recipient_name', sa.String(length=200), nullable=False),
    sa.Column('recipient_phone', sa.String(length=16), nullable=False),
    sa.Column('recipient_email', sa.String(length=254), nullable=True),
    sa.Column('origin_location', sa.String(length=96), nullable=False),
    sa.Column('origin_country', sa.String(length=2), nullable=False),
    sa.Column('origin_lat', sa.Float(), nullable=True),
    sa.Column('origin_lon', sa.Float(), nullable=True),
    sa.Column('destination_location', sa.String(length=96), nullable=False),
    sa.Column('destination_country', sa.String(length=2), nullable=False),
    sa.Column('destination_lat', sa.Float(), nullable=True),
    sa.Column('destination_lon', sa.Float(), nullable=True),
    sa.Column('international', sa.Boolean(), nullable=False),
    sa.Column('pickup_start', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('pickup_end', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivery_start', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivery_end', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('declared_value_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('declared_value_minor >= 0', name=op.f('ck_shipments_value_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('tracking_number', name=op.f('uq_shipments_tracking_number'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_sender_id'), ['sender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_status'), ['status'], unique=False)

    op.create_table('packages',
    sa.Column('shipment_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('length_mm', sa.Integer(), nullable=False),
    sa.Column('width_mm', sa.Integer(), nullable=False),
    sa.Column('height_mm', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('weight_g > 0 AND length_mm > 0 AND width_mm > 0 AND height_mm > 0', name=op.f('ck_packages_sizes_positive')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_packages_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_packages')),
    sa.UniqueConstraint('shipment_id', 'seq', name=op.f('uq_packages_shipment_id'))
    )
    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_packages_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_packages_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('package_items',
    sa.Column('package_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('value_minor', sa.Integer(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('quantity > 0 AND (value_minor IS NULL OR value_minor >= 0)', name=op.f('ck_package_items_amounts_valid')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_package_items_package_id_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_items')),
    sa.UniqueConstraint('package_id', 'seq', name=op.f('uq_package_items_package_id'))
    )
    with op.batch_alter_table('package_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_items_package_id'), ['package_id'], unique=False)

    op.create_table('package_photos',
    sa.Column('package_id', sa.Uuid(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_package_photos_package_id_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_photos'))
    )
    with op.batch_alter_table('package_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_photos_package_id'), ['package_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('package_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_photos_package_id'))

    op.drop_table('package_photos')
    with op.batch_alter_table('package_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_items_package_id'))

    op.drop_table('package_items')
    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_packages_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_packages_created_at'))

    op.drop_table('packages')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipments_status'))
        batch_op.drop_index(batch_op.f('ix_shipments_sender_id'))
        batch_op.drop_index(batch_op.f('ix_shipments_created_at'))
        batch_op.drop_index(batch_op.f('ix_shipments_booking_id'))

    op.drop_table('shipments')
