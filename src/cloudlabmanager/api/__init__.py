"""HTTP: every route, one module per area; thin views over the domain services."""
