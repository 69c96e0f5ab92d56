"""places, vehicles and couriers

Tables of the Location, Vehicle Verification and Local Courier services, among them the
reference gazetteer's (countries, cities, airports and their search index). Schema only: the
rows are loaded by the data step after the migrations (`storage.gazetteer.seed`, run by
`storage.migrate.upgrade`).

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import storage.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('addresses',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('postcode', sa.String(length=16), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('normalized', sa.String(length=600), nullable=False),
    sa.Column('resolved_id', sa.String(length=96), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addresses'))
    )
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_addresses_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_addresses_resolved_id'), ['resolved_id'], unique=False)

    op.create_table('airports',
    sa.Column('iata', sa.String(length=3), nullable=False),
    sa.Column('icao', sa.String(length=4), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('city_id', sa.String(length=96), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('subdivision', sa.String(length=100), nullable=True),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('elevation_ft', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('iata', name=op.f('pk_airports'))
    )
    with op.batch_alter_table('airports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_airports_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_airports_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_airports_icao'), ['icao'], unique=False)

    op.create_table('cities',
    sa.Column('id', sa.String(length=96), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('airport_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cities'))
    )
    with op.batch_alter_table('cities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cities_country'), ['country'], unique=False)

    op.create_table('countries',
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('alpha3', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('official_name', sa.String(length=200), nullable=True),
    sa.Column('tz', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_countries')),
    sa.UniqueConstraint('alpha3', name=op.f('uq_countries_alpha3'))
    )
    op.create_table('local_courier_providers',
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('city_id', sa.String(length=96), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('contact_email', sa.String(length=320), nullable=True),
    sa.Column('max_parcels_per_day', sa.Integer(), nullable=False),
    sa.Column('max_weight_g_per_day', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_local_courier_providers'))
    )
    with op.batch_alter_table('local_courier_providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_local_courier_providers_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_local_courier_providers_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_local_courier_providers_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_local_courier_providers_owner_id'), ['owner_id'], unique=False)

    op.create_table('locations',
    sa.Column('id', sa.String(length=96), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('code', sa.String(length=4), nullable=True),
    sa.Column('alt_code', sa.String(length=4), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('city_id', sa.String(length=96), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('tz', sa.String(length=64), nullable=True),
    sa.Column('name_key', sa.String(length=120), nullable=False),
    sa.Column('city_key', sa.String(length=100), nullable=True),
    sa.Column('terms', sa.String(length=400), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations'))
    )
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locations_alt_code'), ['alt_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_locations_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_locations_city_key'), ['city_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_locations_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_locations_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_locations_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_locations_name_key'), ['name_key'], unique=False)

    op.create_table('user_vehicles',
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=True),
    sa.Column('make', sa.String(length=60), nullable=False),
    sa.Column('model', sa.String(length=60), nullable=False),
    sa.Column('capacity_weight_g', sa.Integer(), nullable=False),
    sa.Column('capacity_volume_cm3', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('review_reason', sa.String(length=500), nullable=True),
    sa.Column('reviewed_by', sa.Uuid(), nullable=True),
    sa.Column('reviewed_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_vehicles')),
    sa.UniqueConstraint('owner_id', 'plate', name=op.f('uq_user_vehicles_owner_id'))
    )
    with op.batch_alter_table('user_vehicles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_vehicles_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_vehicles_owner_id'), ['owner_id'], unique=False)

    op.create_table('local_capacity_days',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('parcels', sa.Integer(), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.CheckConstraint('parcels >= 0 AND weight_g >= 0', name=op.f('ck_local_capacity_days_non_negative')),
    sa.ForeignKeyConstraint(['provider_id'], ['local_courier_providers.id'], name=op.f('fk_local_capacity_days_provider_id_local_courier_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', 'day', name=op.f('pk_local_capacity_days'))
    )
    op.create_table('local_capacity_holds',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['local_courier_providers.id'], name=op.f('fk_local_capacity_holds_provider_id_local_courier_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_local_capacity_holds'))
    )
    with op.batch_alter_table('local_capacity_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_local_capacity_holds_provider_id'), ['provider_id'], unique=False)

    op.create_table('local_segments',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('from_location', sa.String(length=96), nullable=False),
    sa.Column('to_location', sa.String(length=96), nullable=False),
    sa.Column('duration_min', sa.Integer(), nullable=False),
    sa.Column('price_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('max_weight_g', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['local_courier_providers.id'], name=op.f('fk_local_segments_provider_id_local_courier_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_local_segments'))
    )
    with op.batch_alter_table('local_segments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_local_segments_active'), ['active'], unique=False)
        batch_op.create_index(batch_op.f('ix_local_segments_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_local_segments_from_location'), ['from_location'], unique=False)
        batch_op.create_index(batch_op.f('ix_local_segments_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_local_segments_to_location'), ['to_location'], unique=False)

    op.create_table('local_service_areas',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('geometry', sa.JSON(), nullable=False),
    sa.Column('min_lon', sa.Float(), nullable=False),
    sa.Column('min_lat', sa.Float(), nullable=False),
    sa.Column('max_lon', sa.Float(), nullable=False),
    sa.Column('max_lat', sa.Float(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['local_courier_providers.id'], name=op.f('fk_local_service_areas_provider_id_local_courier_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_local_service_areas'))
    )
    with op.batch_alter_table('local_service_areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_local_service_areas_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_local_service_areas_provider_id'), ['provider_id'], unique=False)

    op.create_table('vehicle_documents',
    sa.Column('vehicle_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['vehicle_id'], ['user_vehicles.id'], name=op.f('fk_vehicle_documents_vehicle_id_user_vehicles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vehicle_documents'))
    )
    with op.batch_alter_table('vehicle_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vehicle_documents_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_vehicle_documents_vehicle_id'), ['vehicle_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('vehicle_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicle_documents_vehicle_id'))
        batch_op.drop_index(batch_op.f('ix_vehicle_documents_created_at'))

    op.drop_table('vehicle_documents')
    with op.batch_alter_table('local_service_areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_local_service_areas_provider_id'))
        batch_op.drop_index(batch_op.f('ix_local_service_areas_created_at'))

    op.drop_table('local_service_areas')
    with op.batch_alter_table('local_segments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_local_segments_to_location'))
        batch_op.drop_index(batch_op.f('ix_local_segments_provider_id'))
        batch_op.drop_index(batch_op.f('ix_local_segments_from_location'))
        batch_op.drop_index(batch_op.f('ix_local_segments_created_at'))
        batch_op.drop_index(batch_op.f('ix_local_segments_active'))

    op.drop_table('local_segments')
    with op.batch_alter_table('local_capacity_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_local_capacity_holds_provider_id'))

    op.drop_table('local_capacity_holds')
    op.drop_table('local_capacity_days')
    with op.batch_alter_table('user_vehicles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_vehicles_owner_id'))
        batch_op.drop_index(batch_op.f('ix_user_vehicles_created_at'))

    op.drop_table('user_vehicles')
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locations_name_key'))
        batch_op.drop_index(batch_op.f('ix_locations_kind'))
        batch_op.drop_index(batch_op.f('ix_locations_country'))
        batch_op.drop_index(batch_op.f('ix_locations_code'))
        batch_op.drop_index(batch_op.f('ix_locations_city_key'))
        batch_op.drop_index(batch_op.f('ix_locations_city_id'))
        batch_op.drop_index(batch_op.f('ix_locations_alt_code'))

    op.drop_table('locations')
    with op.batch_alter_table('local_courier_providers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_local_courier_providers_owner_id'))
        batch_op.drop_index(batch_op.f('ix_local_courier_providers_created_at'))
        batch_op.drop_index(batch_op.f('ix_local_courier_providers_country'))
        batch_op.drop_index(batch_op.f('ix_local_courier_providers_city_id'))

    op.drop_table('local_courier_providers')
    op.drop_table('countries')
    with op.batch_alter_table('cities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cities_country'))

    op.drop_table('cities')
    with op.batch_alter_table('airports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_airports_icao'))
        batch_op.drop_index(batch_op.f('ix_airports_country'))
        batch_op.drop_index(batch_op.f('ix_airports_city_id'))

    op.drop_table('airports')
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_addresses_resolved_id'))
        batch_op.drop_index(batch_op.f('ix_addresses_created_by'))

    op.drop_table('addresses')
