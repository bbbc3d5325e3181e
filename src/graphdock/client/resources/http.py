"""`client.http`: raw access to API paths with the client's headers, retries and errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from .._endpoints import AsyncResource, Call, Stream, SyncResource, endpoint
from .._types import StreamPart
from .._wire import NO_BODY, Request

OnResponse = Callable[[httpx.Response], Any] | None


class HttpEndpoints:
    """Any API path, with the client's headers, retries and errors; defined once for both clients."""

    def _request(
        self,
        method: str,
        path: str,
        json: Any,
        params: Any,
        headers: Any,
        on_response: OnResponse,
        **kw: Any,
    ) -> Call[Any]:
        return Call(
            Request(
                method,
                path,
                json=json,
                params=params,
                headers=headers,
                on_response=on_response,
                **kw,
            )
        )

    @endpoint
    def get(
        self,
        path: str,
        *,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        on_response: OnResponse = None,
    ) -> Call[Any]:
        """GET `path` and return the decoded JSON (None for an empty body).

        Example:
            ok = client.http.get("/ok")
        """
        return self._request("GET", path, NO_BODY, params, headers, on_response)

    @endpoint
    def post(
        self,
        path: str,
        *,
        json: Any,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        on_response: OnResponse = None,
    ) -> Call[Any]:
        """POST a JSON body (`json=None` sends an empty body) and return the decoded JSON.

        Example:
            n = await client.http.post("/threads/count", json={})
        """
        return self._request("POST", path, json, params, headers, on_response)

    @endpoint
    def put(
        self,
        path: str,
        *,
        json: Any,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        on_response: OnResponse = None,
    ) -> Call[Any]:
        """PUT a JSON body.

        Example:
            await client.http.put("/store/items", json={"namespace": ["a"], "key": "k", "value": {}})
        """
        return self._request("PUT", path, json, params, headers, on_response)

    @endpoint
    def patch(
        self,
        path: str,
        *,
        json: Any,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        on_response: OnResponse = None,
    ) -> Call[Any]:
        """PATCH a JSON body.

        Example:
            await client.http.patch(f"/threads/{tid}", json={"metadata": {"k": "v"}})
        """
        return self._request("PATCH", path, json, params, headers, on_response)

    @endpoint
    def delete(
        self,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        on_response: OnResponse = None,
    ) -> Call[Any]:
        """DELETE `path` (optionally with a JSON body); returns the decoded body, usually None.

        Example:
            await client.http.delete(f"/threads/{tid}")
        """
        return self._request("DELETE", path, json, params, headers, on_response)

    @endpoint
    def request_reconnect(
        self,
        path: str,
        method: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        on_response: OnResponse = None,
        reconnect_limit: int = 5,
    ) -> Call[Any]:
        """Send a long-poll request; if the body drops, re-fetch it from the `Location` header.

        Example:
            values = await client.http.request_reconnect(f"/threads/{tid}/runs/{rid}/join", "GET")
        """
        return self._request(
            method, path, json, params, headers, on_response, follow_location=reconnect_limit > 0
        )

    @endpoint
    def stream(
        self,
        path: str,
        method: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        on_response: OnResponse = None,
    ) -> Stream[StreamPart]:
        """Stream server-sent events as `StreamPart`s, resuming dropped run streams.

        Example:
            async for part in client.http.stream(f"/threads/{tid}/runs/{rid}/stream", "GET"):
                print(part.event, part.data)
        """
        return Stream(
            Request(
                method,
                path,
                json=json if json is not None else NO_BODY,
                params=params,
                headers=headers,
                on_response=on_response,
            )
        )


class HttpClient(HttpEndpoints, AsyncResource):
    """Low-level HTTP helper used by the resource clients; handy for endpoints they don't cover.

    Example:
        info = await client.http.get("/info")
    """

    @property
    def client(self) -> httpx.AsyncClient:
        """The underlying `httpx.AsyncClient`.

        Example:
            print(client.http.client.base_url)
        """
        return self._t.client


class SyncHttpClient(HttpEndpoints, SyncResource):
    """Low-level HTTP helper used by the resource clients; handy for endpoints they don't cover.

    Example:
        info = client.http.get("/info")
    """

    @property
    def client(self) -> httpx.Client:
        """The underlying `httpx.Client`.

        Example:
            print(client.http.client.base_url)
        """
        return self._t.client
