"""JSON schemas and drawings of a graph, in the shapes the LangGraph API returns."""

from __future__ import annotations

import typing
from typing import Any

from langgraph.pregel import Pregel
from pydantic import TypeAdapter


def _safe(fn) -> Any:
    try:
        return fn()
    except Exception:
        return None


def state_schema(graph: Pregel, title: str) -> dict | None:
    """Every state key as an optional property, as the reference describes graph state."""
    builder = getattr(graph, "builder", None)
    schema_type = getattr(builder, "state_schema", None)
    if schema_type is None:
        return None
    try:
        hints = typing.get_type_hints(schema_type, include_extras=True)
    except Exception:
        return None
    props, defs = {}, {}
    for key, hint in hints.items():
        while typing.get_origin(hint) is typing.Annotated:
            hint = typing.get_args(hint)[0]
        prop = _safe(lambda h=hint: TypeAdapter(h).json_schema()) or {}
        # Shared model definitions live once at the top, where "$ref": "#/$defs/..." points.
        defs.update(prop.pop("$defs", {}))
        props[key] = {"default": None, **prop, "title": key.replace("_", " ").title()}
        props[key] = dict(sorted(props[key].items()))
    schema = {"properties": props, "title": title, "type": "object"}
    return {"$defs": dict(sorted(defs.items())), **schema} if defs else schema


def graph_schemas(graph: Pregel, graph_id: str, *, state_title: str | None = None) -> dict:
    context = _safe(graph.get_context_jsonschema) if graph.context_schema is not None else None
    input_schema = _safe(graph.get_input_jsonschema)
    output_schema = _safe(graph.get_output_jsonschema)
    return {
        "graph_id": graph_id,
        "input_schema": input_schema,
        "output_schema": output_schema,
        "state_schema": state_schema(graph, state_title or f"{graph_id}_state"),
        "config_schema": context if context is not None else {},
        "context_schema": context,
    }


def subgraph_schemas(graph: Pregel, namespace: str | None, recurse: bool) -> dict:
    out = {}
    for ns, sub in graph.get_subgraphs(namespace=namespace, recurse=recurse):
        schemas = graph_schemas(sub, ns, state_title="LangGraphState")
        schemas.pop("graph_id")
        out[ns] = schemas
    return out


def drawable_graph(graph: Pregel, xray: int | bool) -> dict:
    drawn = graph.get_graph(xray=xray).to_json()
    for node in drawn.get("nodes", []):
        data = node.get("data")
        if isinstance(data, dict):
            data.pop("id", None)
    return drawn
