import shared
from langgraph_sdk import Auth

auth = Auth()
TOKENS = {"tok-alice": "alice", "tok-bob": "bob"}


@auth.authenticate
async def authenticate(authorization: str | None) -> str:
    shared.AUTH_CALLS[0] += 1
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or token not in TOKENS:
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid token")
    return TOKENS[token]
