"""Assistants as MCP tools: their names, their input schemas, and what a call returns.

Pure functions over assistant records and run outcomes, so that the server module only
wires them to the SDK. A tool's arguments are the graph's input, plus two reserved ones
(`thread_id`, `resume`) that run the call on a thread and answer its interrupt; a graph
whose own input has a key of that name keeps it, and cannot be run on a thread this way.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import orjson
from mcp import types

from graphdock.server.api.agent_runs import Outcome

NAME_MAX = 128  # MCP tool names: ^[A-Za-z0-9_.-]{1,128}$
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_.\-]")
THREAD_ARG = "thread_id"
RESUME_ARG = "resume"
# Structured tool results arrived in this protocol version; older clients get text only.
STRUCTURED_SINCE = "2025-06-18"

ANNOTATIONS = types.ToolAnnotations(
    readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=True
)
MESSAGES_ARGUMENT = {
    "description": "The conversation to send: a string (one user message) or a list of "
    "messages such as {'role': 'user', 'content': '...'}.",
    "anyOf": [
        {"type": "string"},
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"role": {"type": "string"}, "content": {}},
            },
        },
    ],
}
RESERVED = {
    THREAD_ARG: {
        "type": "string",
        "description": "Run on this thread (a UUID) instead of statelessly: continues its "
        "state, or, with `resume`, answers the interrupt it stopped at.",
    },
    RESUME_ARG: {
        "description": "The answer to the interrupt the thread stopped at (give `thread_id` "
        "too, and no other argument)."
    },
}
ANY_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}  # a JSON schema


@dataclass(frozen=True)
class AssistantTool:
    """One assistant as a tool: its unique name, the graph's schema, the schema shown."""

    name: str
    assistant: dict
    graph_schema: dict | None
    reserved: frozenset[str]

    @property
    def assistant_id(self) -> str:
        return self.assistant["assistant_id"]

    def describe(self) -> types.Tool:
        assistant = self.assistant
        return types.Tool(
            name=self.name,
            title=assistant.get("name") or self.name,
            description=assistant.get("description")
            or f"Runs the LangGraph graph '{assistant['graph_id']}' "
            f"(assistant '{assistant.get('name') or assistant['assistant_id']}').",
            inputSchema=self.input_schema(),
            annotations=ANNOTATIONS,
        )

    def input_schema(self) -> dict[str, Any]:
        schema = simplified(self.graph_schema) if self.graph_schema else dict(ANY_OBJECT)
        schema["type"] = "object"
        properties = schema.setdefault("properties", {})
        for name in sorted(self.reserved):
            properties[name] = RESERVED[name]
        return schema


def tool_name(name: str | None) -> str:
    """An assistant name in the characters MCP allows (runs of spaces become `_`)."""
    cleaned = _NOT_IN_NAME.sub("", re.sub(r"\s+", "_", (name or "").strip()))
    return cleaned[:NAME_MAX] or "assistant"


def toolbox(assistants: list[tuple[dict, dict | None]]) -> list[AssistantTool]:
    """Tools for (assistant, input schema) pairs, oldest assistant first: the first to
    claim a name keeps it, later ones add their id (`name_1a2b3c4d`), so names are
    unique and stay put while assistants are added."""
    tools, taken = [], set()
    for assistant, schema in assistants:
        base = tool_name(assistant.get("name"))
        name = base
        suffix = assistant["assistant_id"].replace("-", "")
        for tail in (suffix[:8], suffix):
            if name not in taken:
                break
            name = f"{base[: NAME_MAX - len(tail) - 1]}_{tail}"
        taken.add(name)
        own = set((schema or {}).get("properties") or {})
        tools.append(AssistantTool(name, assistant, schema, frozenset(set(RESERVED) - own)))
    return tools


def simplified(schema: dict) -> dict:
    """The graph's schema with LangChain message lists as a string-or-messages argument
    (their pydantic definitions run to thousands of lines, which no model needs) and the
    definitions nothing refers to any more dropped."""
    schema = copy.deepcopy(schema)
    defs = schema.get("$defs") or {}
    for key, prop in list((schema.get("properties") or {}).items()):
        if _is_message_list(prop, defs):
            schema["properties"][key] = {"title": prop.get("title", key), **MESSAGES_ARGUMENT}
    if defs:
        used = _referenced({k: v for k, v in schema.items() if k != "$defs"}, defs)
        schema["$defs"] = {k: v for k, v in defs.items() if k in used}
        if not schema["$defs"]:
            del schema["$defs"]
    return schema


def _is_message_list(prop: dict, defs: dict) -> bool:
    if not isinstance(prop, dict) or prop.get("type") != "array":
        return False
    items = prop.get("items") or {}
    refs = [c.get("$ref", "") for c in items.get("oneOf") or items.get("anyOf") or []]
    names = [r.removeprefix("#/$defs/") for r in refs if r.startswith("#/$defs/")]
    return bool(names) and all(n.endswith(("Message", "MessageChunk")) for n in names)


def _referenced(node: Any, defs: dict, found: set[str] | None = None) -> set[str]:
    found = set() if found is None else found
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name not in found and name in defs:
                found.add(name)
                _referenced(defs[name], defs, found)
        for value in node.values():
            _referenced(value, defs, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, defs, found)
    return found


# ---------------------------------------------------------------- results
def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def failed(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], isError=True
    )


def result(tool: AssistantTool, outcome: Outcome, protocol_version: str) -> types.CallToolResult:
    """The run's output as JSON (structured where the protocol version has it); an
    interrupt as its values and thread, with how to answer it; an error as its message."""
    if outcome.status == "error":
        return failed(outcome.error_text)
    content: list[types.ContentBlock]
    if outcome.status == "interrupted":
        structured: Any = {
            "status": "interrupted",
            "thread_id": outcome.thread_id,
            "interrupts": outcome.interrupts,
            "values": outcome.values,
        }
        how = (
            f"The run stopped to ask for input. Call '{tool.name}' again with "
            f'{{"{THREAD_ARG}": "{outcome.thread_id}", "{RESUME_ARG}": <your answer>}} to continue.'
            if {THREAD_ARG, RESUME_ARG} <= tool.reserved
            else "The run stopped to ask for input; answer it through the LangGraph API."
        )
        content = [
            types.TextContent(type="text", text=_json(structured)),
            types.TextContent(type="text", text=how),
        ]
    else:
        structured = outcome.values
        content = [types.TextContent(type="text", text=_json(structured))]
    return types.CallToolResult(
        content=content,
        structuredContent=structured
        if isinstance(structured, dict) and protocol_version >= STRUCTURED_SINCE
        else None,
        isError=False,
    )
