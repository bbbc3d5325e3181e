"""Tests of the graphdock Python client."""
