"""An agent that exercises every channel of the v3 thread protocol, offline.

`agent` calls a fake chat model that streams like a real one, token by token, and streams
its tool call's arguments in pieces; `tools` runs the tool (langchain's ToolNode); the
model's second turn answers; then `review`, a subgraph, reports progress as custom events
and stops at an interrupt until a person approves (unless the input says `"ask": False`).
"""

from __future__ import annotations

import operator
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.tools import tool
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode
from langgraph.types import interrupt
from typing_extensions import TypedDict

ANSWER = "The notes say v3 streams by thread."
CALL_TEXT = "Let me look that up."
TOOL_ARGS = ['{"to', 'pic": "v', '3"}']


class ScriptedChatModel(BaseChatModel):
    """Streams `CALL_TEXT` and a `lookup` tool call the first time, `ANSWER` once the tool
    has answered; each word (and each piece of the arguments) is its own chunk."""

    @property
    def _llm_type(self) -> str:
        return "scripted-chat-model"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:
        return self

    def _chunks(self, messages: list[BaseMessage]) -> Iterator[AIMessageChunk]:
        answered = any(isinstance(m, ToolMessage) for m in messages)
        text = ANSWER if answered else CALL_TEXT
        words = text.split(" ")
        for i, word in enumerate(words):
            yield AIMessageChunk(content=word if i == 0 else " " + word)
        if not answered:
            for i, piece in enumerate(TOOL_ARGS):
                first = i == 0
                yield AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        {
                            "id": "call-1" if first else None,
                            "name": "lookup" if first else None,
                            "args": piece,
                            "index": 0,
                        }
                    ],
                )

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        from langchain_core.outputs import ChatGeneration

        merged = None
        for chunk in self._chunks(messages):
            merged = chunk if merged is None else merged + chunk
        return ChatResult(generations=[ChatGeneration(message=merged)])

    def _stream(
        self, messages, stop=None, run_manager=None, **kwargs
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages):
            yield ChatGenerationChunk(message=chunk)

    async def _astream(
        self, messages, stop=None, run_manager=None, **kwargs
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages):
            yield ChatGenerationChunk(message=chunk)


@tool
def lookup(topic: str) -> str:
    """Look a topic up in the notes."""
    return f"notes on {topic}"


class State(TypedDict, total=False):
    messages: Annotated[list, add_messages]
    approved: Any
    ask: bool


_model = ScriptedChatModel()


async def agent(state: State) -> dict:
    return {"messages": [await _model.ainvoke(state["messages"])]}


def route(state: State) -> str:
    return "tools" if state["messages"][-1].tool_calls else "review"


class ReviewState(TypedDict, total=False):
    messages: Annotated[list, operator.add]
    approved: Any
    ask: bool


def check(state: ReviewState) -> dict:
    write = get_stream_writer()
    write({"name": "progress", "step": "review", "phase": "start"})
    write("plain note")
    answer = interrupt({"question": "Send the answer?"}) if state.get("ask", True) else "auto"
    write({"name": "progress", "step": "review", "phase": "end"})
    return {"approved": answer}


_review = StateGraph(ReviewState)
_review.add_node("check", check)
_review.add_edge(START, "check")
_review.add_edge("check", END)

_b = StateGraph(State)
_b.add_node("agent", agent)
_b.add_node("tools", ToolNode([lookup]))
_b.add_node("review", _review.compile())
_b.add_edge(START, "agent")
_b.add_conditional_edges("agent", route, ["tools", "review"])
_b.add_edge("tools", "agent")
_b.add_edge("review", END)
toolagent = _b.compile()
