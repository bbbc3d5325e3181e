"""A user's FastAPI app for `http.app`: routes (one shadowing a built-in), a middleware that
stamps every response, and a lifespan that opens the resource the graph reads."""

import contextlib
import os
from pathlib import Path

import shared
from fastapi import FastAPI, Request
from starlette.middleware.base import BaseHTTPMiddleware


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    if os.environ.get("CUSTOM_APP_FAIL"):
        raise RuntimeError("the resource would not open")
    shared.RESOURCE["greeting"] = "hello from the lifespan"
    app.state.opened = "yes"
    yield {"lifespan_state": "from-yield"}
    shared.RESOURCE.clear()
    closed = os.environ.get("CUSTOM_APP_CLOSED_FILE")
    if closed:
        Path(closed).write_text("closed")  # noqa: ASYNC240 (once, at shutdown)


app = FastAPI(lifespan=lifespan)


class Stamp(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        user = request.scope.get("user")
        response = await call_next(request)
        response.headers["x-custom-mw"] = "stamped"
        response.headers["x-custom-mw-saw-user"] = getattr(user, "identity", "-")
        return response


app.add_middleware(Stamp)


@app.get("/custom/hello")
async def hello(request: Request):
    user = request.scope.get("user")
    return {
        "hello": "world",
        "user": getattr(user, "identity", None),
        "opened": request.app.state.opened,
        "lifespan_state": request.state.lifespan_state,
    }


@app.get("/custom/auth-calls")
async def auth_calls():
    return {"calls": shared.AUTH_CALLS[0]}


@app.get("/info")
async def shadowed_info():
    return {"shadowed": True}


@app.get("/ok")
async def not_shadowed():
    return {"shadowed": True}
