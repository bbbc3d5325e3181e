"""PostgreSQL adapters: storage, checkpoints and the long-term store for scale-out."""
