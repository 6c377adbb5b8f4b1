"""The REST API (v1): a FastAPI app whose routes are thin shells over services."""
