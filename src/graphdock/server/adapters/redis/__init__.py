"""Redis adapters: the event bus for scale-out (streams, pub/sub)."""
