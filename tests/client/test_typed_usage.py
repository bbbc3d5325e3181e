"""`typed_usage.py` run for real: every method of both clients, against each server.

mypy proves the file's annotations against the declared types; this proves the declared types
against real answers. Each endpoint is wrapped so that what it gives back (each item, for
streams and pages) is checked with typeguard against the type its definition declares
(`Call[Thread]`: a `Thread`). The test also fails if the usage file leaves an endpoint out.
"""

from __future__ import annotations

import asyncio
import functools
import reprlib
import typing
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import typeguard
from typeguard import TypeCheckError, TypeCheckMemo, check_type_internal

from graphdock.client import _endpoints, resources
from graphdock.client._transport import AsyncStream
from tests.client.typed_usage import (
    use_async_client,
    use_async_thread_stream,
    use_sync_client,
    use_sync_thread_stream,
)

# the v3 session, which the reference answers only with the protocol turned on
# (tests/client/test_thread_stream.py runs it there)
V3 = {"ThreadsEndpoints.stream"}


def _typed_dict_allowing_extra_keys(
    value: Any, origin_type: Any, args: tuple[Any, ...], memo: TypeCheckMemo
) -> None:
    """A TypedDict check that, like a type checker, accepts keys the type does not declare
    (servers add fields); typeguard's own refuses them."""
    if not isinstance(value, dict):
        raise TypeCheckError("is not a dict")
    missing = origin_type.__required_keys__ - value.keys()
    if missing:
        raise TypeCheckError(f"is missing required key(s): {', '.join(sorted(missing))}")
    for key, hint in typing.get_type_hints(origin_type).items():
        if key in value:
            try:
                check_type_internal(value[key], hint, memo)
            except TypeCheckError as exc:
                exc.append_path_element(f"value of key {key!r}")
                raise


def _lookup(origin_type: Any, args: tuple[Any, ...], extras: tuple[Any, ...]) -> Any:
    return _typed_dict_allowing_extra_keys if typing.is_typeddict(origin_type) else None


def _declared(endpoint: _endpoints._Endpoint) -> tuple[Any, Any]:
    """(description kind, result type) from the definition's return annotation
    (`Call[Thread]`: `(Call, Thread)`; a description without a type argument: `(it, None)`)."""
    returns = typing.get_type_hints(endpoint.definition)["return"]
    arguments = typing.get_args(returns)
    return typing.get_origin(returns) or returns, arguments[0] if arguments else None


def _endpoints_by_name() -> dict[str, _endpoints._Endpoint]:
    found = {}
    for module in (resources.assistants, resources.crons, resources.http, resources.runs,
                   resources.store, resources.threads):  # fmt: skip
        found.update(_endpoints_of(module))
    return found


def _endpoints_of(module: Any) -> dict[str, _endpoints._Endpoint]:
    return {
        f"{cls.__name__}.{name}": attr
        for cls in vars(module).values()
        if isinstance(cls, type) and cls.__name__.endswith("Endpoints")
        for name, attr in vars(cls).items()
        if isinstance(attr, _endpoints._Endpoint)
    }


class Checked:
    """Wraps each endpoint's two facades: records the call, checks what comes back."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.called: dict[str, set[str]] = {"async": set(), "sync": set()}
        self.checked = 0
        self.mismatches: list[str] = []
        for name, endpoint in _endpoints_by_name().items():
            kind, expected = _declared(endpoint)
            for mode in ("async", "sync"):
                facade = getattr(endpoint, f"_{mode}")
                monkeypatch.setattr(
                    endpoint, f"_{mode}", self._wrap(facade, name, mode, kind, expected)
                )

    def check(self, value: Any, expected: Any, name: str) -> Any:
        """Note (rather than raise) a mismatch, so one run reports every one of them."""
        self.checked += 1
        try:
            typeguard.check_type(value, expected)
        except TypeCheckError as exc:
            self.mismatches.append(f"{name}: {exc} (got {reprlib.repr(value)})")
        return value

    def _wrap(self, facade: Any, name: str, mode: str, kind: Any, expected: Any) -> Any:
        check = functools.partial(self.check, expected=expected, name=name)

        @functools.wraps(facade)
        def method(resource: Any, /, *args: Any, **kwargs: Any) -> Any:
            self.called[mode].add(name)
            result = facade(resource, *args, **kwargs)
            if kind is _endpoints.Call:
                return _checked_value(result, check) if mode == "async" else check(result)
            if kind in (_endpoints.Stream, _endpoints.Pages):
                if mode == "async":
                    return AsyncStream(_checked_items(result, check))
                return (check(item) for item in result)
            return result  # another kind of description: its own tests check what it gives

        return method


async def _checked_value(result: Any, check: Any) -> Any:
    return check(await result)


async def _checked_items(stream: AsyncIterator[Any], check: Any) -> Any:
    async for item in stream:
        yield check(item)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[Checked]:
    typeguard.checker_lookup_functions.insert(0, _lookup)  # typeguard's extension point
    try:
        yield Checked(monkeypatch)
    finally:
        typeguard.checker_lookup_functions.remove(_lookup)


def _not_called(checked: Checked, mode: str, v3: bool) -> set[str]:
    return set(_endpoints_by_name()) - (set() if v3 else V3) - checked.called[mode]


def _speaks_v3(request: pytest.FixtureRequest) -> bool:
    return request.node.callspec.params["server_url"] != "reference"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_async_client_answers_are_the_declared_types(server_url, checked, request):
    await use_async_client(server_url)
    if v3 := _speaks_v3(request):
        await use_async_thread_stream(server_url)
    assert checked.mismatches == []
    assert _not_called(checked, "async", v3) == set()
    assert checked.checked > 50


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_sync_client_answers_are_the_declared_types(server_url, checked, request):
    await asyncio.to_thread(use_sync_client, server_url)
    if v3 := _speaks_v3(request):
        await asyncio.to_thread(use_sync_thread_stream, server_url)
    assert checked.mismatches == []
    assert _not_called(checked, "sync", v3) == set()
    assert checked.checked > 50


def test_a_wrong_declared_type_is_caught(checked):
    """The runtime check itself can fail: a Thread without its id is refused."""
    from graphdock.client.schema import Thread

    checked.check({"created_at": "", "updated_at": "", "metadata": {}}, Thread, "threads.get")
    checked.check({"thread_id": 1, "created_at": "", "updated_at": "", "metadata": {}}, Thread, "")
    assert len(checked.mismatches) == 2
    assert "missing required key(s): thread_id" in checked.mismatches[0]
    assert "value of key 'thread_id'" in checked.mismatches[1]
