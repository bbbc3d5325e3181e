"""A chat agent on langchain's fake chat model: it streams tokens like a real one, offline."""

from itertools import cycle

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.graph import END, START, MessagesState, StateGraph

REPLIES = cycle(
    [
        AIMessage(content="Hello! I am a fake model, so I say the same few things."),
        AIMessage(content="Streaming works token by token, just like a real model."),
        AIMessage(content="Try the approval graph for a human-in-the-loop example."),
    ]
)


def respond(state: MessagesState):
    model = GenericFakeChatModel(messages=iter([next(REPLIES)]))
    return {"messages": [model.invoke(state["messages"])]}


builder = StateGraph(MessagesState)
builder.add_node("respond", respond)
builder.add_edge(START, "respond")
builder.add_edge("respond", END)
graph = builder.compile()
