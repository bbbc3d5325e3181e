"""A chat agent on a real model. It needs `pip install langchain-openai` and OPENAI_API_KEY;
without them the graph still loads, and a run ends with an error that says what is missing."""

import os

from langgraph.graph import END, START, MessagesState, StateGraph


def respond(state: MessagesState):
    if not os.environ.get("OPENAI_API_KEY"):
        raise RuntimeError(
            "set OPENAI_API_KEY (and pip install langchain-openai) to use this graph"
        )
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
    return {"messages": [model.invoke(state["messages"])]}


builder = StateGraph(MessagesState)
builder.add_node("respond", respond)
builder.add_edge(START, "respond")
builder.add_edge("respond", END)
graph = builder.compile()
