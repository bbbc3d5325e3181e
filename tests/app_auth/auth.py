"""Test auth: bearer tokens mapped to users; every resource owner-scoped; store per user."""

from langgraph_sdk import Auth

auth = Auth()

USERS = {
    "tok-alice": {"identity": "alice", "permissions": ["read", "write"], "org": "acme"},
    "tok-bob": {"identity": "bob", "permissions": ["read", "write"], "org": "acme"},
    "tok-carol": {"identity": "carol", "permissions": ["read"]},  # read-only
}
WRITES = {"create", "update", "delete", "create_run", "put"}


@auth.authenticate
async def authenticate(
    authorization: str | None, method: str, path: str
) -> Auth.types.MinimalUserDict:
    if not authorization:
        raise Auth.exceptions.HTTPException(status_code=401, detail="Missing token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or token not in USERS:
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid token")
    return USERS[token]


@auth.on
async def owner_only(ctx: Auth.types.AuthContext, value: dict):
    """Everything is its owner's: stamp the owner on what is made, filter on it everywhere."""
    if ctx.action in WRITES and "write" not in ctx.user.permissions:
        raise Auth.exceptions.HTTPException(status_code=403, detail="read-only user")
    metadata = value.get("metadata") if isinstance(value, dict) else None
    if isinstance(metadata, dict) and ctx.action in ("create", "create_run"):
        metadata["owner"] = ctx.user.identity
    return {"owner": {"$eq": ctx.user.identity}}


@auth.on.threads.search
async def search_threads(ctx: Auth.types.AuthContext, value: dict):
    return {"owner": ctx.user.identity}  # the shorthand form of the same filter


@auth.on.store
async def own_namespace(ctx: Auth.types.AuthContext, value: dict):
    """Each user's items live under their identity; nobody can name another's."""
    if ctx.action == "put" and "write" not in ctx.user.permissions:
        return False
    namespace = tuple(value.get("namespace") or ())
    value["namespace"] = (ctx.user.identity, *namespace)
