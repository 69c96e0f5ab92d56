"""trips, itineraries and bookings

Tables of the Trip Service (trips, trip_legs, trip_constraints, trip_documents and the
capacity ledger of its shard actors: trip_capacity, capacity_holds), the Itinerary Service
(itineraries, itinerary_legs) and the Booking Service (leg_bookings, leg_assignments).

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import storage.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('itineraries',
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('booking_id', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_itineraries'))
    )
    with op.batch_alter_table('itineraries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_itineraries_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_itineraries_owner_id'), ['owner_id'], unique=False)

    op.create_table('leg_bookings',
    sa.Column('sender_id', sa.Uuid(), nullable=False),
    sa.Column('itinerary_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('volume_cm3', sa.Integer(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('expires_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('weight_g > 0 AND volume_cm3 > 0 AND items > 0', name=op.f('ck_leg_bookings_amounts_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leg_bookings'))
    )
    with op.batch_alter_table('leg_bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leg_bookings_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_leg_bookings_itinerary_id'), ['itinerary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leg_bookings_sender_id'), ['sender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leg_bookings_status'), ['status'], unique=False)

    op.create_table('trips',
    sa.Column('traveler_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('capacity_g', sa.Integer(), nullable=False),
    sa.Column('capacity_cm3', sa.Integer(), nullable=False),
    sa.Column('capacity_items', sa.Integer(), nullable=False),
    sa.Column('price_per_kg_minor', sa.Integer(), nullable=False),
    sa.Column('min_price_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('notes', sa.String(length=500), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('published_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity_cm3 > 0', name=op.f('ck_trips_capacity_cm3_positive')),
    sa.CheckConstraint('capacity_g > 0', name=op.f('ck_trips_capacity_g_positive')),
    sa.CheckConstraint('capacity_items > 0', name=op.f('ck_trips_capacity_items_positive')),
    sa.CheckConstraint('price_per_kg_minor >= 0 AND min_price_minor >= 0', name=op.f('ck_trips_price_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trips'))
    )
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trips_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_trips_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_trips_traveler_id'), ['traveler_id'], unique=False)

    op.create_table('capacity_holds',
    sa.Column('booking_id', sa.Uuid(), nullable=False),
    sa.Column('trip_id', sa.Uuid(), nullable=False),
    sa.Column('leg_ids', sa.JSON(), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('volume_cm3', sa.Integer(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expires_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('weight_g > 0 AND volume_cm3 > 0 AND items > 0', name=op.f('ck_capacity_holds_amounts_positive')),
    sa.ForeignKeyConstraint(['trip_id'], ['trips.id'], name=op.f('fk_capacity_holds_trip_id_trips'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('booking_id', 'trip_id', name=op.f('pk_capacity_holds'))
    )
    with op.batch_alter_table('capacity_holds', schema=None) as batch_op:
        batch_op.create_index('ix_capacity_holds_status_expires_at', ['status', 'expires_at'], unique=False)

    op.create_table('itinerary_legs',
    sa.Column('itinerary_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('trip_id', sa.Uuid(), nullable=True),
    sa.Column('trip_leg_id', sa.Uuid(), nullable=True),
    sa.Column('segment_id', sa.Uuid(), nullable=True),
    sa.Column('carrier_id', sa.Uuid(), nullable=True),
    sa.Column('from_location', sa.String(length=64), nullable=False),
    sa.Column('to_location', sa.String(length=64), nullable=False),
    sa.Column('starts_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['itinerary_id'], ['itineraries.id'], name=op.f('fk_itinerary_legs_itinerary_id_itineraries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_itinerary_legs')),
    sa.UniqueConstraint('itinerary_id', 'seq', name=op.f('uq_itinerary_legs_itinerary_id'))
    )
    with op.batch_alter_table('itinerary_legs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_itinerary_legs_itinerary_id'), ['itinerary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_itinerary_legs_trip_id'), ['trip_id'], unique=False)

    op.create_table('leg_assignments',
    sa.Column('booking_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('itinerary_leg_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('trip_id', sa.Uuid(), nullable=True),
    sa.Column('trip_leg_id', sa.Uuid(), nullable=True),
    sa.Column('segment_id', sa.Uuid(), nullable=True),
    sa.Column('carrier_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('hold', sa.String(length=16), nullable=False),
    sa.Column('decided_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['leg_bookings.id'], name=op.f('fk_leg_assignments_booking_id_leg_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leg_assignments')),
    sa.UniqueConstraint('booking_id', 'seq', name=op.f('uq_leg_assignments_booking_id'))
    )
    with op.batch_alter_table('leg_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leg_assignments_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leg_assignments_carrier_id'), ['carrier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leg_assignments_trip_id'), ['trip_id'], unique=False)

    op.create_table('trip_constraints',
    sa.Column('trip_id', sa.Uuid(), nullable=False),
    sa.Column('max_item_weight_g', sa.Integer(), nullable=True),
    sa.Column('max_length_mm', sa.Integer(), nullable=True),
    sa.Column('max_width_mm', sa.Integer(), nullable=True),
    sa.Column('max_height_mm', sa.Integer(), nullable=True),
    sa.Column('allowed_categories', sa.JSON(), nullable=True),
    sa.Column('banned_categories', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['trip_id'], ['trips.id'], name=op.f('fk_trip_constraints_trip_id_trips'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('trip_id', name=op.f('pk_trip_constraints'))
    )
    op.create_table('trip_documents',
    sa.Column('trip_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['trip_id'], ['trips.id'], name=op.f('fk_trip_documents_trip_id_trips'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trip_documents'))
    )
    with op.batch_alter_table('trip_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trip_documents_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_trip_documents_trip_id'), ['trip_id'], unique=False)

    op.create_table('trip_legs',
    sa.Column('trip_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('origin_iata', sa.String(length=3), nullable=False),
    sa.Column('destination_iata', sa.String(length=3), nullable=False),
    sa.Column('origin_location', sa.String(length=64), nullable=False),
    sa.Column('destination_location', sa.String(length=64), nullable=False),
    sa.Column('origin_tz', sa.String(length=64), nullable=False),
    sa.Column('destination_tz', sa.String(length=64), nullable=False),
    sa.Column('departs_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('arrives_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('carrier', sa.String(length=3), nullable=False),
    sa.Column('flight_number', sa.String(length=8), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['trip_id'], ['trips.id'], name=op.f('fk_trip_legs_trip_id_trips'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trip_legs')),
    sa.UniqueConstraint('trip_id', 'seq', name=op.f('uq_trip_legs_trip_id'))
    )
    with op.batch_alter_table('trip_legs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trip_legs_departs_at'), ['departs_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_trip_legs_destination_location'), ['destination_location'], unique=False)
        batch_op.create_index(batch_op.f('ix_trip_legs_origin_location'), ['origin_location'], unique=False)
        batch_op.create_index(batch_op.f('ix_trip_legs_trip_id'), ['trip_id'], unique=False)

    op.create_table('trip_capacity',
    sa.Column('trip_id', sa.Uuid(), nullable=False),
    sa.Column('leg_id', sa.Uuid(), nullable=False),
    sa.Column('open', sa.Boolean(), nullable=False),
    sa.Column('capacity_g', sa.Integer(), nullable=False),
    sa.Column('capacity_cm3', sa.Integer(), nullable=False),
    sa.Column('capacity_items', sa.Integer(), nullable=False),
    sa.Column('held_g', sa.Integer(), nullable=False),
    sa.Column('held_cm3', sa.Integer(), nullable=False),
    sa.Column('held_items', sa.Integer(), nullable=False),
    sa.Column('booked_g', sa.Integer(), nullable=False),
    sa.Column('booked_cm3', sa.Integer(), nullable=False),
    sa.Column('booked_items', sa.Integer(), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('held_cm3 + booked_cm3 <= capacity_cm3', name=op.f('ck_trip_capacity_cm3_not_oversold')),
    sa.CheckConstraint('held_cm3 >= 0 AND booked_cm3 >= 0', name=op.f('ck_trip_capacity_cm3_not_negative')),
    sa.CheckConstraint('held_g + booked_g <= capacity_g', name=op.f('ck_trip_capacity_g_not_oversold')),
    sa.CheckConstraint('held_g >= 0 AND booked_g >= 0', name=op.f('ck_trip_capacity_g_not_negative')),
    sa.CheckConstraint('held_items + booked_items <= capacity_items', name=op.f('ck_trip_capacity_items_not_oversold')),
    sa.CheckConstraint('held_items >= 0 AND booked_items >= 0', name=op.f('ck_trip_capacity_items_not_negative')),
    sa.ForeignKeyConstraint(['leg_id'], ['trip_legs.id'], name=op.f('fk_trip_capacity_leg_id_trip_legs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trip_id'], ['trips.id'], name=op.f('fk_trip_capacity_trip_id_trips'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('trip_id', 'leg_id', name=op.f('pk_trip_capacity'))
    )


def downgrade() -> None:
    op.drop_table('trip_capacity')
    with op.batch_alter_table('trip_legs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trip_legs_trip_id'))
        batch_op.drop_index(batch_op.f('ix_trip_legs_origin_location'))
        batch_op.drop_index(batch_op.f('ix_trip_legs_destination_location'))
        batch_op.drop_index(batch_op.f('ix_trip_legs_departs_at'))

    op.drop_table('trip_legs')
    with op.batch_alter_table('trip_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trip_documents_trip_id'))
        batch_op.drop_index(batch_op.f('ix_trip_documents_created_at'))

    op.drop_table('trip_documents')
    op.drop_table('trip_constraints')
    with op.batch_alter_table('leg_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leg_assignments_trip_id'))
        batch_op.drop_index(batch_op.f('ix_leg_assignments_carrier_id'))
        batch_op.drop_index(batch_op.f('ix_leg_assignments_booking_id'))

    op.drop_table('leg_assignments')
    with op.batch_alter_table('itinerary_legs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_itinerary_legs_trip_id'))
        batch_op.drop_index(batch_op.f('ix_itinerary_legs_itinerary_id'))

    op.drop_table('itinerary_legs')
    with op.batch_alter_table('capacity_holds', schema=None) as batch_op:
        batch_op.drop_index('ix_capacity_holds_status_expires_at')

    op.drop_table('capacity_holds')
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trips_traveler_id'))
        batch_op.drop_index(batch_op.f('ix_trips_status'))
        batch_op.drop_index(batch_op.f('ix_trips_created_at'))

    op.drop_table('trips')
    with op.batch_alter_table('leg_bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leg_bookings_status'))
        batch_op.drop_index(batch_op.f('ix_leg_bookings_sender_id'))
        batch_op.drop_index(batch_op.f('ix_leg_bookings_itinerary_id'))
        batch_op.drop_index(batch_op.f('ix_leg_bookings_created_at'))

    op.drop_table('leg_bookings')
    with op.batch_alter_table('itineraries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_itineraries_owner_id'))
        batch_op.drop_index(batch_op.f('ix_itineraries_created_at'))

    op.drop_table('itineraries')
