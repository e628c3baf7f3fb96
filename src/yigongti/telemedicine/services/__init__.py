"""The use cases of the shared diagnosis centers, one module per area; the only writers of the app's tables."""
