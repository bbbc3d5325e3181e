"""Test graphs covering each behaviour the server must carry: sleeps, interrupts,
subgraphs, failures, custom events, the store, chat models, schemas and factories."""

import asyncio
import operator
import os
from pathlib import Path
from typing import Annotated, Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.config import get_store, get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from typing_extensions import TypedDict


class SlowState(TypedDict, total=False):
    messages: Annotated[list, operator.add]
    sleep: float
    count: int


async def slow_node(state: SlowState):
    secs = state.get("sleep", 3)
    await asyncio.sleep(secs)
    return {
        "messages": [{"role": "assistant", "content": f"slept {secs}"}],
        "count": state.get("count", 0) + 1,
    }


def after_node(state: SlowState):
    return {"messages": [{"role": "assistant", "content": "after"}]}


_b = StateGraph(SlowState)
_b.add_node("slow", slow_node)
_b.add_node("after", after_node)
_b.add_edge(START, "slow")
_b.add_edge("slow", "after")
_b.add_edge("after", END)
slow = _b.compile()


class HitlState(TypedDict, total=False):
    messages: Annotated[list, operator.add]
    answer: Any


def ask_node(state: HitlState):
    value = interrupt({"question": "approve?", "n": len(state.get("messages", []))})
    return {"answer": value, "messages": [{"role": "human", "content": str(value)}]}


def finish_node(state: HitlState):
    return {"messages": [{"role": "assistant", "content": f"done:{state.get('answer')}"}]}


_b = StateGraph(HitlState)
_b.add_node("ask", ask_node)
_b.add_node("finish", finish_node)
_b.add_edge(START, "ask")
_b.add_edge("ask", "finish")
_b.add_edge("finish", END)
hitl = _b.compile()


class SubState(TypedDict, total=False):
    messages: Annotated[list, operator.add]
    inner: int


def c1(state: SubState):
    return {"messages": [{"role": "assistant", "content": "c1"}], "inner": 1}


def c2(state: SubState):
    get_stream_writer()({"from": "c2"})
    return {"messages": [{"role": "assistant", "content": "c2"}], "inner": 2}


_s = StateGraph(SubState)
_s.add_node("c1", c1)
_s.add_node("c2", c2)
_s.add_edge(START, "c1")
_s.add_edge("c1", "c2")
_s.add_edge("c2", END)
child = _s.compile()


def p1(state: SubState):
    return {"messages": [{"role": "assistant", "content": "p1"}]}


_b = StateGraph(SubState)
_b.add_node("p1", p1)
_b.add_node("child", child)
_b.add_edge(START, "p1")
_b.add_edge("p1", "child")
_b.add_edge("child", END)
parent = _b.compile()


class FailState(TypedDict, total=False):
    messages: Annotated[list, operator.add]


def ok_node(state: FailState):
    return {"messages": [{"role": "assistant", "content": "ok"}]}


def boom_node(state: FailState):
    raise ValueError("boom")


_b = StateGraph(FailState)
_b.add_node("ok", ok_node)
_b.add_node("boom", boom_node)
_b.add_edge(START, "ok")
_b.add_edge("ok", "boom")
_b.add_edge("boom", END)
fail = _b.compile()


class CustomState(TypedDict, total=False):
    messages: Annotated[list, operator.add]
    n: int


def custom_node(state: CustomState):
    write = get_stream_writer()
    for i in range(state.get("n") or 3):
        write({"progress": i})
    write("plain-string")
    return {"messages": [{"role": "assistant", "content": "custom done"}]}


_b = StateGraph(CustomState)
_b.add_node("emit", custom_node)
_b.add_edge(START, "emit")
_b.add_edge("emit", END)
custom = _b.compile()


class StoreState(TypedDict, total=False):
    messages: Annotated[list, operator.add]
    found: list


async def store_node(state: StoreState):
    store = get_store()
    await store.aput(("graph", "mem"), "k1", {"text": "remembered from graph"})
    items = await store.asearch(("graph",))
    return {
        "found": [i.key for i in items],
        "messages": [{"role": "assistant", "content": f"{len(items)} items"}],
    }


_b = StateGraph(StoreState)
_b.add_node("remember", store_node)
_b.add_edge(START, "remember")
_b.add_edge("remember", END)
storegraph = _b.compile()


def chat_node(state: MessagesState):
    model = GenericFakeChatModel(messages=iter([AIMessage(content="hello world from fake")]))
    return {"messages": [model.invoke(state["messages"])]}


_b = StateGraph(MessagesState)
_b.add_node("model", chat_node)
_b.add_edge(START, "model")
_b.add_edge("model", END)
chat = _b.compile()


class Ctx(TypedDict, total=False):
    model_name: str
    temperature: float


class InState(TypedDict):
    question: str


class OutState(TypedDict):
    answer: str


class FullState(InState, OutState):
    scratch: str


def answer_node(state: InState, runtime: Runtime[Ctx]):
    ctx = runtime.context or {}
    return {"answer": f"{state['question']}? ({ctx.get('model_name', 'default')})", "scratch": "x"}


_b = StateGraph(FullState, input_schema=InState, output_schema=OutState, context_schema=Ctx)
_b.add_node("answer", answer_node)
_b.add_edge(START, "answer")
_b.add_edge("answer", END)
schemas = _b.compile()


def static_node(state: MessagesState):
    return {"messages": [AIMessage(content="static reply", id="static-1")]}


_b = StateGraph(MessagesState)
_b.add_node("static", static_node)
_b.add_edge(START, "static")
_b.add_edge("static", END)
staticmsg = _b.compile()

_b = StateGraph(MessagesState)
_b.add_node("inner_chat", chat_node)
_b.add_edge(START, "inner_chat")
_b.add_edge("inner_chat", END)
_inner = _b.compile()
_b = StateGraph(MessagesState)
_b.add_node("outer", _inner)
_b.add_edge(START, "outer")
_b.add_edge("outer", END)
parentchat = _b.compile()


class SubHitl(TypedDict, total=False):
    messages: Annotated[list, operator.add]
    answer: Any


_b = StateGraph(SubHitl)
_b.add_node("ask", ask_node)
_b.add_edge(START, "ask")
_b.add_edge("ask", END)
_subhitl = _b.compile()
_b = StateGraph(SubHitl)
_b.add_node("sub", _subhitl)
_b.add_edge(START, "sub")
_b.add_edge("sub", END)
parenthitl = _b.compile()


class StepsState(TypedDict, total=False):
    log: Annotated[list, operator.add]
    delay: float
    delays: dict  # per step, e.g. {"s4": 3.0}: overrides `delay` for that step
    marker_dir: str


def _step(name: str):
    async def node(state: StepsState):
        # Each execution leaves a marker file, so tests can count how often a step ran
        # (a step replayed after a crash would leave two).
        marker_dir = state.get("marker_dir")
        if marker_dir:
            path = Path(marker_dir) / f"{name}.{os.getpid()}.{asyncio.get_running_loop().time()}"
            path.write_text(name)
        await asyncio.sleep((state.get("delays") or {}).get(name, state.get("delay", 0.0)))
        return {"log": [name]}

    return node


_b = StateGraph(StepsState)
for _name in ("s1", "s2", "s3", "s4"):
    _b.add_node(_name, _step(_name))
_b.add_edge(START, "s1")
_b.add_edge("s1", "s2")
_b.add_edge("s2", "s3")
_b.add_edge("s3", "s4")
_b.add_edge("s4", END)
steps = _b.compile()


def make_graph(config):
    """A graph factory: the server calls it with the run's config."""
    greeting = config.get("configurable", {}).get("greeting", "hi")

    def greet(state: MessagesState):
        return {"messages": [AIMessage(content=greeting, id="greet-1")]}

    b = StateGraph(MessagesState)
    b.add_node("greet", greet)
    b.add_edge(START, "greet")
    b.add_edge("greet", END)
    return b.compile()
