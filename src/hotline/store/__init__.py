"""Persistence: SQLAlchemy 2 models, the tenant scope, migrations and repositories."""
