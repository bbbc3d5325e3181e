"""One definition per endpoint, two typed clients.

An endpoint is written once, as a method that returns a *description* of the call: `Call[T]`
(one request, its answer a `T`), `Stream[T]` (server-sent events) or `Pages[T]` (a paged
search walked to the end). A description does no I/O. The `endpoint` decorator makes that
method a descriptor: read from an `AsyncResource` it is a method whose call hands the
description to the async transport (`await client.threads.create()` is a `Thread`); read from
a `SyncResource`, to the sync one (`sync_client.threads.create()` is a `Thread`). Type
checkers see the definition's own parameters (a `ParamSpec`) with the right result for each
client, and `help()` shows its signature and docstring.

Adding a kind of call is adding a `Description` subclass that says what each client gives
back (`run_async`, `run_sync`): a session used as `async with` on one client and `with` on
the other is a description whose `run_async` returns an async context manager and whose
`run_sync` returns a sync one.
"""

from __future__ import annotations

import functools
import inspect
import re
import types
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import (
    Any,
    ClassVar,
    Concatenate,
    Generic,
    Literal,
    ParamSpec,
    Protocol,
    TypeVar,
    cast,
    get_args,
    get_origin,
    overload,
)

from ._flows import Flow, exchange, paginate, sse_stream
from ._transport import AsyncStream, AsyncTransport, SyncTransport
from ._wire import Request, Settings

T = TypeVar("T")
A = TypeVar("A", covariant=True)
S = TypeVar("S", covariant=True)


class Description(ABC, Generic[A, S]):
    """What one call of an endpoint asks for; the async client gets an `A`, the sync one an `S`.

    `async_returns` / `sync_returns` are how `help()` shows each client's result, `{}`
    standing for the description's type argument (`Call[Thread]` shows `Awaitable[Thread]`).
    """

    async_returns: ClassVar[str] = "{}"
    sync_returns: ClassVar[str] = "{}"

    @abstractmethod
    def run_async(self, transport: AsyncTransport) -> A:
        """What the async client returns for this call."""

    @abstractmethod
    def run_sync(self, transport: SyncTransport) -> S:
        """What the sync client returns for this call."""


@dataclass(frozen=True)
class Call(Description[Coroutine[Any, Any, T], T]):
    """One request; its decoded answer is a `T` (retries and error mapping: `exchange`)."""

    request: Request
    async_returns = "Awaitable[{}]"

    def run_async(self, transport: AsyncTransport) -> Coroutine[Any, Any, T]:
        return transport.run(exchange(self.request, transport.settings))

    def run_sync(self, transport: SyncTransport) -> T:
        # The API's promise, declared by the endpoint: the JSON body is a `T`.
        return cast(T, transport.run(exchange(self.request, transport.settings)))


class _Emitting(Description[AsyncStream[T], Iterator[T]]):
    """A flow that hands out `T`s: an async stream on the async client, an iterator on the sync one."""

    async_returns = "AsyncIterator[{}]"
    sync_returns = "Iterator[{}]"

    @abstractmethod
    def flow(self, settings: Settings) -> Flow: ...

    def run_async(self, transport: AsyncTransport) -> AsyncStream[T]:
        return transport.iterate(self.flow(transport.settings))

    def run_sync(self, transport: SyncTransport) -> Iterator[T]:
        return transport.iterate(self.flow(transport.settings))


@dataclass(frozen=True)
class Stream(_Emitting[T]):
    """Server-sent events as `T`s, rejoining a dropped run stream (`sse_stream`)."""

    request: Request
    version: str = "v1"

    def flow(self, settings: Settings) -> Flow:
        return sse_stream(self.request, settings, version=self.version)


def _body_is_the_page(body: Any) -> list[Any]:
    return cast(list[Any], body)


@dataclass(frozen=True)
class Pages(_Emitting[T]):
    """Every `T` of a paged search: `page(offset, limit)` is the request for one page."""

    page: Callable[[int, int], Request]
    page_size: int = 100
    items: Callable[[Any], list[Any]] = _body_is_the_page

    def flow(self, settings: Settings) -> Flow:
        return paginate(self.page, settings, page_size=self.page_size, items=self.items)


# Resources -------------------------------------------------------------------------------


class AsyncResource:
    """A group of endpoints on the async client (`client.threads`, ...)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport


class SyncResource:
    """A group of endpoints on the sync client."""

    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport


# The descriptors -------------------------------------------------------------------------

P = ParamSpec("P")
P1 = ParamSpec("P1")
P2 = ParamSpec("P2")
A1 = TypeVar("A1")
S1 = TypeVar("S1")
A2 = TypeVar("A2")
S2 = TypeVar("S2")
R1 = TypeVar("R1", covariant=True)
R2 = TypeVar("R2", covariant=True)
Definition = Callable[..., Description[Any, Any]]

_RETURNS = re.compile(r"^\s*(?P<kind>\w+)(?:\[(?P<argument>.*)\])?\s*$")


def _facade_returns(definition: Definition, returns: Any, mode: Literal["async", "sync"]) -> Any:
    """The result annotation `help()` shows for one client: `Call[Thread]` reads `Awaitable[Thread]`."""
    if isinstance(returns, str):  # postponed annotations: look the description class up by name
        match = _RETURNS.match(returns)
        kind = definition.__globals__.get(match["kind"]) if match else None
        argument = (match["argument"] or "") if match else ""
    else:
        kind = get_origin(returns) or returns
        argument = ", ".join(inspect.formatannotation(a) for a in get_args(returns))
    if not (isinstance(kind, type) and issubclass(kind, Description)):
        return returns
    return (kind.async_returns if mode == "async" else kind.sync_returns).format(argument)


def _facade(definition: Definition, mode: Literal["async", "sync"]) -> Callable[..., Any]:
    """The method a client sees: build the description, hand it to the resource's transport."""
    if mode == "async":

        def method(resource: Any, /, *args: Any, **kwargs: Any) -> Any:
            return definition(resource, *args, **kwargs).run_async(resource._t)

    else:

        def method(resource: Any, /, *args: Any, **kwargs: Any) -> Any:
            return definition(resource, *args, **kwargs).run_sync(resource._t)

    functools.update_wrapper(method, definition)
    signature = inspect.signature(definition)
    returns = _facade_returns(definition, signature.return_annotation, mode)
    method.__dict__["__signature__"] = signature.replace(return_annotation=returns)
    return method


class _Endpoint:
    """Runtime half of the descriptors: pick the async or the sync method by the resource."""

    def __init__(self, definition: Definition) -> None:
        self.__doc__ = definition.__doc__
        self.definition = definition
        self._async = _facade(definition, "async")
        self._sync = _facade(definition, "sync")

    def _get(self, instance: object, owner: type[object] | None) -> Any:
        if instance is None:  # class access: the plain function, so help(ThreadsClient) reads well
            if owner is not None and issubclass(owner, AsyncResource):
                return self._async
            if owner is not None and issubclass(owner, SyncResource):
                return self._sync
            return self
        if isinstance(instance, AsyncResource):
            return types.MethodType(self._async, instance)
        if isinstance(instance, SyncResource):
            return types.MethodType(self._sync, instance)
        raise TypeError(
            f"{self.definition.__qualname__} is an endpoint: call it on a client's resource "
            f"(an AsyncResource or SyncResource), not on {type(instance).__name__}"
        )


class Endpoint(_Endpoint, Generic[P, A1, S1]):
    """An endpoint method: `(*P) -> A1` on the async client, `(*P) -> S1` on the sync one."""

    def __init__(self, definition: Callable[Concatenate[Any, P], Description[A1, S1]]) -> None:
        super().__init__(definition)

    @overload
    def __get__(
        self, instance: None, owner: type[AsyncResource]
    ) -> Callable[Concatenate[AsyncResource, P], A1]: ...
    @overload
    def __get__(
        self, instance: None, owner: type[SyncResource]
    ) -> Callable[Concatenate[SyncResource, P], S1]: ...
    @overload
    def __get__(
        self, instance: AsyncResource, owner: type[object] | None = None
    ) -> Callable[P, A1]: ...
    @overload
    def __get__(
        self, instance: SyncResource, owner: type[object] | None = None
    ) -> Callable[P, S1]: ...
    def __get__(self, instance: object, owner: type[object] | None = None) -> Any:
        return self._get(instance, owner)


def endpoint(definition: Callable[Concatenate[Any, P], Description[A1, S1]]) -> Endpoint[P, A1, S1]:
    """Make a method returning a `Description` an endpoint of both clients.

    Example:
        @endpoint
        def get(self, thread_id: str) -> Call[Thread]:
            \"\"\"Get a thread.\"\"\"
            return Call(Request("GET", path("/threads/{}", thread_id)))
    """
    return Endpoint(definition)


class Forms(Protocol[P1, R1, P2, R2]):
    """A method with two typed forms, tried in order (what `typing.overload` gives)."""

    @overload
    def __call__(self, *args: P1.args, **kwargs: P1.kwargs) -> R1: ...
    @overload
    def __call__(self, *args: P2.args, **kwargs: P2.kwargs) -> R2: ...


class OverloadedEndpoint(_Endpoint, Generic[P1, A1, S1, P2, A2, S2]):
    """An endpoint whose result type follows an argument's value (e.g. `version="v2"`)."""

    def __init__(
        self,
        definition: Definition,
        first: Callable[Concatenate[Any, P1], Description[A1, S1]],
        second: Callable[Concatenate[Any, P2], Description[A2, S2]],
    ) -> None:
        super().__init__(definition)
        self.forms = (first, second)

    @overload
    def __get__(
        self, instance: None, owner: type[AsyncResource]
    ) -> Forms[Concatenate[AsyncResource, P1], A1, Concatenate[AsyncResource, P2], A2]: ...
    @overload
    def __get__(
        self, instance: None, owner: type[SyncResource]
    ) -> Forms[Concatenate[SyncResource, P1], S1, Concatenate[SyncResource, P2], S2]: ...
    @overload
    def __get__(
        self, instance: AsyncResource, owner: type[object] | None = None
    ) -> Forms[P1, A1, P2, A2]: ...
    @overload
    def __get__(
        self, instance: SyncResource, owner: type[object] | None = None
    ) -> Forms[P1, S1, P2, S2]: ...
    def __get__(self, instance: object, owner: type[object] | None = None) -> Any:
        return self._get(instance, owner)


def overloaded_endpoint(
    first: Callable[Concatenate[Any, P1], Description[A1, S1]],
    second: Callable[Concatenate[Any, P2], Description[A2, S2]],
) -> Callable[[Definition], OverloadedEndpoint[P1, A1, S1, P2, A2, S2]]:
    """Like `endpoint`, for a definition whose result type depends on an argument's value.

    `first` and `second` are signatures only (methods of a `Protocol`), with the same
    parameters as the definition: the first one the arguments match gives the result type.

    Example:
        class _Forms(Protocol):
            def v1(self, *, version: Literal["v1"] = "v1") -> Stream[StreamPart]: ...
            def v2(self, *, version: Literal["v2"]) -> Stream[StreamPartV2]: ...

        @overloaded_endpoint(_Forms.v1, _Forms.v2)
        def stream(self, *, version: str = "v1") -> Stream[Any]: ...
    """

    def decorate(definition: Definition) -> OverloadedEndpoint[P1, A1, S1, P2, A2, S2]:
        return OverloadedEndpoint(definition, first, second)

    return decorate
