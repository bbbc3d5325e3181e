"""Implementations of the ports: SQL (SQLite, Postgres), in-process memory, Redis."""
