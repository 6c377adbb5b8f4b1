"""storage/repositories layer."""
