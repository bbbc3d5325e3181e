"""The one place a run's config is merged: the assistant's, then the request's, then what
the server adds (the caller, forwarded headers, ids). The result is stored with the run as
its `RunKwargs`, so the executor (and a crash-resumed attempt) runs exactly what was asked,
whatever happens to the assistant meanwhile."""

from __future__ import annotations

from typing import Any, Literal, cast

from langchain_core.runnables import RunnableConfig

from graphdock.server.ports.records import AssistantRecord, Json, RunKwargs
from graphdock.server.services.context import RequestContext
from graphdock.server.services.run_spec import RunSpec, ThreadRunCreate


def normalize_modes(value: Any) -> list[str]:
    modes = [value] if isinstance(value, str) else list(value or [])
    return list(dict.fromkeys(modes)) or ["values"]


def run_kwargs(
    spec: RunSpec,
    *,
    assistant: AssistantRecord,
    run_id: str,
    thread_id: str,
    metadata: Json,
    ctx: RequestContext,
    temporary: bool,
    checkpoint: Json | None,
    protocol: Literal["v3"] | None = None,
    resume_if_interrupted: bool = False,
) -> RunKwargs:
    base = assistant["config"] or {}
    sent = spec.config.model_dump(exclude_unset=True) if spec.config is not None else {}
    config: Json = {
        **base,
        **{k: v for k, v in sent.items() if k not in ("configurable", "metadata")},
    }
    if base.get("tags") and sent.get("tags"):
        config["tags"] = list(dict.fromkeys([*base["tags"], *sent["tags"]]))
    user = ctx.user
    configurable = {
        **(base.get("configurable") or {}),
        **ctx.headers,
        **(sent.get("configurable") or {}),
        **(spec.context or {}),
        "langgraph_auth_user": user,
        "langgraph_auth_user_id": ctx.identity,
        "langgraph_auth_permissions": (user or {}).get("permissions", []),
        "langgraph_request_id": ctx.request_id,
        "run_id": run_id,
        "thread_id": thread_id,
        "graph_id": assistant["graph_id"],
        "assistant_id": assistant["assistant_id"],
        "user_id": ctx.identity,
    }
    configurable.setdefault("checkpoint_ns", "")
    config["configurable"] = configurable
    config["metadata"] = {
        **(sent.get("metadata") or {}),
        **metadata,
        "graph_id": assistant["graph_id"],
        "assistant_id": assistant["assistant_id"],
        "thread_id": thread_id,
        "run_id": run_id,
        "user_id": ctx.identity,
    }
    config.setdefault("run_name", assistant["graph_id"])
    checkpoint_during = True if spec.checkpoint_during is None else spec.checkpoint_during
    kwargs: RunKwargs = {
        "graph_id": assistant["graph_id"],
        "input": spec.input,
        "command": spec.command.fields() if spec.command is not None else None,
        # A RunnableConfig as JSON: the request's known keys were checked (RunConfig), and
        # any other key reaches langgraph as sent, which no RunnableConfig literal can hold.
        "config": cast(RunnableConfig, config),
        "context": {**(assistant.get("context") or {}), **(spec.context or {})},
        "stream_mode": normalize_modes(spec.stream_mode),
        "interrupt_before": spec.interrupt_before,
        "interrupt_after": spec.interrupt_after,
        "webhook": spec.webhook,
        "feedback_keys": spec.feedback_keys,
        "temporary": temporary,
        "subgraphs": spec.stream_subgraphs,
        "resumable": spec.stream_resumable,
        "checkpoint_during": checkpoint_during,
        "durability": spec.durability or ("async" if checkpoint_during else "exit"),
    }
    if isinstance(spec, ThreadRunCreate) and checkpoint:
        kwargs["checkpoint"] = checkpoint
    if spec.on_disconnect:
        kwargs["on_disconnect"] = spec.on_disconnect
    if protocol is not None:
        kwargs["protocol"] = protocol
    if resume_if_interrupted:
        kwargs["resume_if_interrupted"] = True
    return kwargs
