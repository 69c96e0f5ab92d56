"""Storage: SQLAlchemy models per domain, engine and unit of work, migrations, KV store, outbox."""
