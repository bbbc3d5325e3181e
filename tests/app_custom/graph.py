"""A graph that uses the resource the custom app's lifespan opened."""

import shared
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    greeting: str


def greet(state: State) -> State:
    return {"greeting": shared.RESOURCE.get("greeting", "the resource is not open")}


builder = StateGraph(State)
builder.add_node("greet", greet)
builder.add_edge(START, "greet")
builder.add_edge("greet", END)
graph = builder.compile()
