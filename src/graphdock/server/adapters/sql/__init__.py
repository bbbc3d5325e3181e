"""One query layer (SQLAlchemy Core, async) for both SQLite and PostgreSQL."""
