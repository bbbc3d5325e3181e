"""Human in the loop: the graph drafts an action, stops for approval, then acts or not.

Resume it with `command={"resume": "yes"}` (or anything else to decline).
"""

import operator
from typing import Annotated

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    request: str
    draft: str
    approved: bool
    log: Annotated[list[str], operator.add]


def draft(state: State):
    return {"draft": f"send an email about {state.get('request', 'nothing')!r}", "log": ["drafted"]}


def ask(state: State):
    answer = interrupt({"question": "Approve this action?", "action": state["draft"]})
    return {
        "approved": str(answer).lower() in ("yes", "y", "true", "approve"),
        "log": [f"answer: {answer}"],
    }


def act(state: State):
    return {
        "log": ["done: " + state["draft"] if state.get("approved") else "declined: nothing sent"]
    }


builder = StateGraph(State)
builder.add_node("draft", draft)
builder.add_node("ask", ask)
builder.add_node("act", act)
builder.add_edge(START, "draft")
builder.add_edge("draft", "ask")
builder.add_edge("ask", "act")
builder.add_edge("act", END)
graph = builder.compile()
