# The audit log is read in its own page (auditors only); the admin must not offer edits of it.
