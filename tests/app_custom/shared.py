"""What the custom app, the auth and the graph share (one module, imported by all three):
the resource the app's lifespan opens and the graph uses, and a count of authenticate calls."""

RESOURCE: dict[str, str] = {}
AUTH_CALLS = [0]
