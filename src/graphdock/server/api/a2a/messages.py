"""Between A2A messages (parts) and LangGraph state (messages, input keys).

A user's text parts become one human message in the graph's `messages`; data parts that
are objects become input keys. On the way back, the thread's messages are the task's
history, and the agent's last reply (or, without one, the run's output) is its artifact.
"""

from __future__ import annotations

import uuid
from typing import Any

from a2a.helpers import new_data_part, new_text_part
from a2a.types import Artifact, Message, Part, Role
from a2a.utils.errors import ContentTypeNotSupportedError, InvalidParamsError
from google.protobuf.json_format import MessageToDict

USER_TYPES = ("human", "user")


def _plain(value: Any) -> Any:
    """JSON from a protobuf Value: every number there is a double, so a whole number
    (`3.0`) is given back as the integer it was sent as."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def part_values(message: Message) -> tuple[list[str], list[Any]]:
    """The message's texts and data values; a file or URL part is refused by name."""
    texts, data = [], []
    for index, part in enumerate(message.parts):
        kind = part.WhichOneof("content")
        if kind == "text":
            texts.append(part.text)
        elif kind == "data":
            data.append(_plain(MessageToDict(part.data)))
        else:
            raise ContentTypeNotSupportedError(
                message=f"Part {index} is a {kind or 'empty'} part; this agent takes text "
                "and data parts"
            )
    if not texts and not data:
        raise InvalidParamsError(message="The message has no text or data part")
    return texts, data


def graph_input(message: Message, takes_messages: bool) -> dict:
    """The run input a message gives: data objects as input keys, the text as a message."""
    texts, data = part_values(message)
    out: dict[str, Any] = {}
    for value in data:
        if not isinstance(value, dict):
            raise InvalidParamsError(
                message="A data part must be an object of the graph's input keys, "
                f"got {type(value).__name__}"
            )
        out.update(value)
    if texts:
        if not takes_messages:
            raise InvalidParamsError(
                message="This assistant's graph takes no 'messages': send its input as a "
                "data part instead of text"
            )
        text = "\n".join(texts)
        out.setdefault("messages", []).append(
            {"type": "human", "content": text, "id": message.message_id or str(uuid.uuid4())}
        )
    return out


def resume_value(message: Message) -> Any:
    """The answer a message gives to an interrupt: a data part's `resume`, else the
    text, else the data part itself."""
    texts, data = part_values(message)
    for value in data:
        if isinstance(value, dict) and "resume" in value:
            return value["resume"]
    if texts:
        return "\n".join(texts)
    return data[0] if len(data) == 1 else data


def text_of(content: Any) -> str:
    """A LangChain message content (a string or content blocks) as plain text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            b if isinstance(b, str) else str(b.get("text", ""))
            for b in content
            if isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text")
        )
    return "" if content is None else str(content)


def is_user(message: dict) -> bool:
    return (message.get("type") or message.get("role")) in USER_TYPES


def to_a2a(message: dict, context_id: str, task_id: str) -> Message:
    return Message(
        message_id=str(message.get("id") or uuid.uuid4()),
        context_id=context_id,
        task_id=task_id,
        role=Role.ROLE_USER if is_user(message) else Role.ROLE_AGENT,
        parts=[new_text_part(text_of(message.get("content")))],
    )


def history(values: Any, context_id: str, task_id: str, length: int | None) -> list[Message]:
    """The thread's messages as A2A messages (the last `length` of them, if given)."""
    messages = values.get("messages") if isinstance(values, dict) else None
    if not isinstance(messages, list):
        return []
    kept = [m for m in messages if isinstance(m, dict) and (m.get("type") != "system")]
    if length is not None:
        kept = kept[-length:] if length > 0 else []
    return [to_a2a(m, context_id, task_id) for m in kept]


def reply_text(values: Any) -> str | None:
    """The agent's reply: its last message, when the last message is the agent's."""
    messages = values.get("messages") if isinstance(values, dict) else None
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return None
    last = messages[-1]
    return None if is_user(last) else text_of(last.get("content"))


def artifact(values: Any, task_id: str) -> Artifact:
    """The run's result: the reply as text, or the whole output as data."""
    text = reply_text(values)
    part: Part = new_text_part(text) if text is not None else new_data_part(values or {})
    return Artifact(artifact_id=f"{task_id}:response", name="response", parts=[part])


def agent_message(parts: list[Part], context_id: str, task_id: str) -> Message:
    return Message(
        message_id=str(uuid.uuid4()),
        context_id=context_id,
        task_id=task_id,
        role=Role.ROLE_AGENT,
        parts=parts,
    )


def interrupt_message(interrupts: list[dict], context_id: str, task_id: str) -> Message:
    """What the agent asks: each interrupt's value, as text or as data."""
    values = [(i.get("value"), i.get("id")) for i in interrupts]
    parts = [
        new_text_part(value)
        if isinstance(value, str)
        else new_data_part({"interrupt": value, "id": interrupt_id})
        for value, interrupt_id in values
    ]
    return agent_message(parts or [new_text_part("Input required")], context_id, task_id)
