"""Storage: the database engine, the tables, their migrations, metadata and secrets at rest."""
