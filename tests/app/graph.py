"""Two-step graph: START -> a -> b -> END, appending messages and counting steps."""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict):
    messages: Annotated[list, operator.add]
    count: int


def step_a(state: State):
    return {"messages": [{"role": "assistant", "content": "a"}], "count": state.get("count", 0) + 1}


def step_b(state: State):
    return {"messages": [{"role": "assistant", "content": "b"}], "count": state.get("count", 0) + 1}


builder = StateGraph(State)
builder.add_node("a", step_a)
builder.add_node("b", step_b)
builder.add_edge(START, "a")
builder.add_edge("a", "b")
builder.add_edge("b", END)
graph = builder.compile()
