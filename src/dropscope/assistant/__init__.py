"""The research assistant's engine: corpus, retrieval (BM25 + MiniLM) and answer generation.

It knows documents, chunks, indexes and generators; it reads the database only through the
domain objects the services hand it. `services/assistant.py` is its one entry point.
"""
