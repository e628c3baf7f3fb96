"""Reads of the shared diagnosis centers, scoped to the user (``core.scoping``) and audited; one module per area."""
