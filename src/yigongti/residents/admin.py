# Residents are person-level data: they are maintained through the scoped, audited pages and API,
# not the admin, which would bypass both.
