"""Persistence: SQLAlchemy Core tables, the database handle, repositories, migrations."""
