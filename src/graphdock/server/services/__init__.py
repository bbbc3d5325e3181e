"""The domain: assistants, threads, runs, crons and the store. No HTTP and no SQL here."""
