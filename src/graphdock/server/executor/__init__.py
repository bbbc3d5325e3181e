"""Runs graph runs: claims them from the queue, streams their events, records their end."""
