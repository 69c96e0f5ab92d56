"""route graph and trip search

Tables of the Route Planning Service (route_graph_nodes, route_graph_edges and the graph's
version counter, route_graph_state) and of the Trip Search Service (route_search_queries,
route_suggestions, saved_searches, search_alerts).

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import storage.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('route_graph_edges',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('from_node', sa.String(length=96), nullable=False),
    sa.Column('to_node', sa.String(length=96), nullable=False),
    sa.Column('trip_id', sa.Uuid(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=True),
    sa.Column('departs_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('arrives_at', storage.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('duration_s', sa.Integer(), nullable=True),
    sa.Column('carrier', sa.String(length=3), nullable=True),
    sa.Column('flight_number', sa.String(length=8), nullable=True),
    sa.Column('remaining_g', sa.Integer(), nullable=True),
    sa.Column('remaining_cm3', sa.Integer(), nullable=True),
    sa.Column('remaining_items', sa.Integer(), nullable=True),
    sa.Column('price_per_kg_minor', sa.Integer(), nullable=True),
    sa.Column('price_minor', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('max_weight_g', sa.Integer(), nullable=True),
    sa.Column('constraints', sa.JSON(), nullable=True),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('source_version', sa.Integer(), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_graph_edges'))
    )
    with op.batch_alter_table('route_graph_edges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_route_graph_edges_departs_at'), ['departs_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_route_graph_edges_from_node'), ['from_node'], unique=False)
        batch_op.create_index(batch_op.f('ix_route_graph_edges_stale'), ['stale'], unique=False)
        batch_op.create_index(batch_op.f('ix_route_graph_edges_to_node'), ['to_node'], unique=False)
        batch_op.create_index(batch_op.f('ix_route_graph_edges_trip_id'), ['trip_id'], unique=False)

    op.create_table('route_graph_nodes',
    sa.Column('id', sa.String(length=96), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('code', sa.String(length=8), nullable=True),
    sa.Column('tz', sa.String(length=64), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('resolved', sa.Boolean(), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_graph_nodes'))
    )
    with op.batch_alter_table('route_graph_nodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_route_graph_nodes_resolved'), ['resolved'], unique=False)

    op.create_table('route_graph_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_graph_state'))
    )
    op.create_table('route_search_queries',
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('origin', sa.String(length=96), nullable=False),
    sa.Column('destination', sa.String(length=96), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('trips_found', sa.Integer(), nullable=False),
    sa.Column('itineraries_found', sa.Integer(), nullable=False),
    sa.Column('cached', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_search_queries'))
    )
    with op.batch_alter_table('route_search_queries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_route_search_queries_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_route_search_queries_destination'), ['destination'], unique=False)
        batch_op.create_index(batch_op.f('ix_route_search_queries_origin'), ['origin'], unique=False)
        batch_op.create_index(batch_op.f('ix_route_search_queries_user_id'), ['user_id'], unique=False)

    op.create_table('route_suggestions',
    sa.Column('origin', sa.String(length=96), nullable=False),
    sa.Column('destination', sa.String(length=96), nullable=False),
    sa.Column('origin_name', sa.String(length=200), nullable=False),
    sa.Column('destination_name', sa.String(length=200), nullable=False),
    sa.Column('searches', sa.Integer(), nullable=False),
    sa.Column('last_searched_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('origin', 'destination', name=op.f('pk_route_suggestions'))
    )
    with op.batch_alter_table('route_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_route_suggestions_last_searched_at'), ['last_searched_at'], unique=False)

    op.create_table('saved_searches',
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('origin', sa.String(length=96), nullable=False),
    sa.Column('destination', sa.String(length=96), nullable=False),
    sa.Column('origin_ids', sa.JSON(), nullable=False),
    sa.Column('destination_ids', sa.JSON(), nullable=False),
    sa.Column('origin_tz', sa.String(length=64), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('date_from <= date_to', name=op.f('ck_saved_searches_window_ordered')),
    sa.CheckConstraint('weight_g > 0', name=op.f('ck_saved_searches_weight_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_searches'))
    )
    with op.batch_alter_table('saved_searches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_searches_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_searches_date_from'), ['date_from'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_searches_date_to'), ['date_to'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_searches_owner_id'), ['owner_id'], unique=False)

    op.create_table('search_alerts',
    sa.Column('saved_search_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('trip_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('category_checked', sa.Boolean(), nullable=False),
    sa.Column('from_location', sa.String(length=96), nullable=False),
    sa.Column('to_location', sa.String(length=96), nullable=False),
    sa.Column('departs_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('arrives_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('capacity_g', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['saved_search_id'], ['saved_searches.id'], name=op.f('fk_search_alerts_saved_search_id_saved_searches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_alerts')),
    sa.UniqueConstraint('saved_search_id', 'trip_id', name=op.f('uq_search_alerts_saved_search_id'))
    )
    with op.batch_alter_table('search_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_alerts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_alerts_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_alerts_saved_search_id'), ['saved_search_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_alerts_trip_id'), ['trip_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('search_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_alerts_trip_id'))
        batch_op.drop_index(batch_op.f('ix_search_alerts_saved_search_id'))
        batch_op.drop_index(batch_op.f('ix_search_alerts_owner_id'))
        batch_op.drop_index(batch_op.f('ix_search_alerts_created_at'))

    op.drop_table('search_alerts')
    with op.batch_alter_table('saved_searches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_searches_owner_id'))
        batch_op.drop_index(batch_op.f('ix_saved_searches_date_to'))
        batch_op.drop_index(batch_op.f('ix_saved_searches_date_from'))
        batch_op.drop_index(batch_op.f('ix_saved_searches_created_at'))

    op.drop_table('saved_searches')
    with op.batch_alter_table('route_suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_route_suggestions_last_searched_at'))

    op.drop_table('route_suggestions')
    with op.batch_alter_table('route_search_queries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_route_search_queries_user_id'))
        batch_op.drop_index(batch_op.f('ix_route_search_queries_origin'))
        batch_op.drop_index(batch_op.f('ix_route_search_queries_destination'))
        batch_op.drop_index(batch_op.f('ix_route_search_queries_created_at'))

    op.drop_table('route_search_queries')
    op.drop_table('route_graph_state')
    with op.batch_alter_table('route_graph_nodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_route_graph_nodes_resolved'))

    op.drop_table('route_graph_nodes')
    with op.batch_alter_table('route_graph_edges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_route_graph_edges_trip_id'))
        batch_op.drop_index(batch_op.f('ix_route_graph_edges_to_node'))
        batch_op.drop_index(batch_op.f('ix_route_graph_edges_stale'))
        batch_op.drop_index(batch_op.f('ix_route_graph_edges_from_node'))
        batch_op.drop_index(batch_op.f('ix_route_graph_edges_departs_at'))

    op.drop_table('route_graph_edges')
