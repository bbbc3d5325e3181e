"""The endpoint descriptor at run time: what each client gets, what `help()` shows, and that
the typed forms of an overloaded endpoint keep the parameters of its definition."""

from __future__ import annotations

import inspect
import pydoc

import httpx
import pytest

from graphdock.client import (
    AsyncStream,
    SyncThreadsClient,
    ThreadsClient,
    get_client,
    get_sync_client,
    resources,
)
from graphdock.client._endpoints import OverloadedEndpoint
from graphdock.client.resources.threads import ThreadsEndpoints

OVERLOADED = [
    (f"{cls.__name__}.{name}", attr)
    for module in vars(resources).values()
    if inspect.ismodule(module)
    for cls in vars(module).values()
    if isinstance(cls, type) and cls.__name__.endswith("Endpoints")
    for name, attr in vars(cls).items()
    if isinstance(attr, OverloadedEndpoint)
]


def test_each_client_gets_its_own_resource_classes():
    aio, sync = get_client(url="http://test"), get_sync_client(url="http://test")
    assert type(aio.threads) is ThreadsClient and type(sync.threads) is SyncThreadsClient
    assert not isinstance(sync.threads, ThreadsClient)  # as in the official client


async def test_async_methods_give_coroutines_and_streams_sync_ones_values_and_iterators():
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"thread_id": "t"})

    aio = get_client(url="http://test")
    aio._transport.client._transport = httpx.MockTransport(answer)
    sync = get_sync_client(url="http://test")
    sync._transport.client._transport = httpx.MockTransport(answer)
    pending = aio.threads.get("t")
    assert inspect.iscoroutine(pending)
    assert await pending == {"thread_id": "t"} == sync.threads.get("t")
    assert isinstance(aio.runs.join_stream("t", "r"), AsyncStream)
    stream = sync.runs.join_stream("t", "r")
    assert iter(stream) is stream and not hasattr(stream, "__aiter__")
    stream.close()


def test_arguments_are_checked_when_called_not_when_awaited():
    with pytest.raises(ValueError, match="periods"):
        get_client(url="http://test").store.put_item(["a.b"], "k", {})


def test_help_shows_the_definition_with_each_clients_result():
    aio, sync = get_client(url="http://test"), get_sync_client(url="http://test")
    assert inspect.signature(aio.threads.create).return_annotation == "Awaitable[Thread]"
    assert inspect.signature(sync.threads.create).return_annotation == "Thread"
    assert inspect.signature(aio.runs.join_stream).return_annotation == (
        "AsyncIterator[StreamPart]"
    )
    assert inspect.signature(sync.threads.iter_search).return_annotation == "Iterator[Thread]"
    params = inspect.signature(sync.threads.get).parameters
    assert list(params) == ["thread_id", "include", "headers", "params"]
    assert aio.threads.get.__doc__ == ThreadsEndpoints.__dict__["get"].definition.__doc__
    page = pydoc.render_doc(SyncThreadsClient, renderer=pydoc.plaintext)
    assert "get_state(self, thread_id: 'str'" in page and "-> 'ThreadState'" in page


def test_class_access_gives_the_plain_function_of_that_client():
    assert inspect.isfunction(ThreadsClient.get) and inspect.isfunction(SyncThreadsClient.get)
    assert ThreadsClient.get is not SyncThreadsClient.get


def test_an_endpoint_refuses_to_run_on_something_that_is_not_a_resource():
    with pytest.raises(TypeError, match=r"ThreadsEndpoints\.get is an endpoint"):
        ThreadsEndpoints().get("t")  # type: ignore[call-overload]


@pytest.mark.parametrize(("name", "overloaded"), OVERLOADED, ids=[n for n, _ in OVERLOADED])
def test_typed_forms_have_the_parameters_of_the_definition(name, overloaded):
    definition = inspect.signature(overloaded.definition).parameters
    for form in overloaded.forms:
        params = inspect.signature(form).parameters
        assert [(p.name, p.kind) for p in params.values()] == [
            (p.name, p.kind) for p in definition.values()
        ], f"{form.__qualname__} does not take the parameters of {name}"
        # A form may require what the definition defaults (that is how it is picked).
        changed = [
            p.name
            for p in params.values()
            if p.default is not p.empty and p.default != definition[p.name].default
        ]
        assert changed == [], f"{form.__qualname__} changes the defaults of {name}"


def test_the_overloaded_endpoints_are_found():
    assert {name for name, _ in OVERLOADED} == {
        "AssistantsEndpoints.search",
        "RunsEndpoints.stream",
        "ThreadsEndpoints.update",
    }
