"""JSON schemas and drawings of a graph, in the shapes the LangGraph API returns."""

from __future__ import annotations

import types
import typing
from typing import Any

import typing_extensions
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


_KEY_WRAPPERS = (
    typing.Required,
    typing.NotRequired,
    typing_extensions.Required,
    typing_extensions.NotRequired,
)


def portable_type(hint: Any) -> Any:
    """`hint` with every `typing.TypedDict` in it rebuilt as a `typing_extensions` one.

    Pydantic refuses a `typing.TypedDict` on Python < 3.12 (it cannot see which keys are
    required), so langgraph cannot describe a graph whose state is one. The rebuilt class
    has the same keys, the same required keys and the same title."""
    if typing_extensions.is_typeddict(hint) and type(hint).__module__ == "typing":
        hints = typing.get_type_hints(hint, include_extras=True)
        fields = {}
        for key, value in hints.items():
            while typing.get_origin(value) in _KEY_WRAPPERS:
                value = typing.get_args(value)[0]
            value = portable_type(value)
            fields[key] = (
                value if key in hint.__required_keys__ else typing_extensions.NotRequired[value]
            )
        # a class statement made at run time (the functional form wants a literal name)
        rebuilt = types.new_class(
            hint.__name__,
            (typing_extensions.TypedDict,),
            exec_body=lambda ns: ns.update({"__annotations__": fields}),
        )
        rebuilt.__doc__ = hint.__doc__
        rebuilt.__module__ = hint.__module__
        return rebuilt
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is None or not args:
        return hint
    if origin is typing.Annotated:
        return typing.Annotated[(portable_type(args[0]), *hint.__metadata__)]
    portable = tuple(portable_type(a) for a in args)
    if portable == args:
        return hint
    try:
        return hint.copy_with(portable)
    except AttributeError:  # a builtin generic such as list[X]
        return origin[portable] if len(portable) > 1 else origin[portable[0]]


def _schema_of(describe, schema_type: Any) -> dict | None:
    """The graph's own JSON schema, or, where pydantic refused the schema's type, the
    schema of its portable rebuild."""
    try:
        return describe()
    except Exception:
        if not typing_extensions.is_typeddict(schema_type):
            return None
        return _safe(lambda: TypeAdapter(portable_type(schema_type)).json_schema())


def input_schema(graph: Pregel) -> dict | None:
    builder = getattr(graph, "builder", None)
    return _schema_of(graph.get_input_jsonschema, getattr(builder, "input_schema", None))


def graph_schemas(graph: Pregel, graph_id: str, *, state_title: str | None = None) -> dict:
    context = _safe(graph.get_context_jsonschema) if graph.context_schema is not None else None
    builder = getattr(graph, "builder", None)
    output_schema = _schema_of(graph.get_output_jsonschema, getattr(builder, "output_schema", None))
    return {
        "graph_id": graph_id,
        "input_schema": input_schema(graph),
        "output_schema": output_schema,
        "state_schema": state_schema(graph, state_title or f"{graph_id}_state"),
        "config_schema": context if context is not None else {},
        "context_schema": context,
    }


def subgraph_schemas(graph: Pregel, namespace: str | None, recurse: bool) -> dict:
    out = {}
    for ns, sub in graph.get_subgraphs(namespace=namespace, recurse=recurse):
        if not isinstance(sub, Pregel):  # a remote graph: its schemas are not ours to read
            continue
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
