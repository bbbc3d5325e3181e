"""Executes one run on the real langgraph library and reports how it ended.

The graph runs in a task of its own so that a cancel signal (from the API, a multitask
strategy, or a dropped client) stops it promptly, even mid-node, and the run is recorded as
interrupted, rolled back or deleted as the signal asked.

Every write of the run (checkpoints, events, its end) carries the attempt's lease as its
fence: an attempt whose lease is lost stops at its next write and records nothing. While
the database or the event bus cannot be reached, the run's writes wait for it as long as
the lease holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import logging
import uuid
from typing import Any, Literal, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel
from langgraph.types import Command, Durability, Send, StreamMode

from graphdock._version import __version__
from graphdock.server import serde
from graphdock.server.executor.lease import Lease, LeaseLost
from graphdock.server.executor.protocol import (
    CONFIG_KEY_STREAM_MESSAGES_V2,
    PREGEL_MODES,
    ProtocolTranslator,
)
from graphdock.server.executor.stream import EventShaper, pregel_modes
from graphdock.server.ports.bus import Appender, EventBus, run_channel, thread_channel
from graphdock.server.ports.errors import StaleAttempt, Unavailable
from graphdock.server.ports.records import Json, RunKwargs, RunRecord, RunStatus
from graphdock.server.ports.storage import FENCE_KEY
from graphdock.server.services import clock
from graphdock.server.services.graphs import GraphAccess, GraphEntry, GraphRegistry
from graphdock.server.services.runs import RESULT_EVENT, RunService
from graphdock.server.services.runs import shape as run_shape
from graphdock.server.services.state import (
    CHECKPOINT_ADDRESS_KEYS,
    thread_interrupts,
    thread_status,
)
from graphdock.server.services.webhooks import WebhookSender

log = logging.getLogger("graphdock.executor")


LANGGRAPH_VERSION = importlib.metadata.version("langgraph")

# How long a run stopped by a shutdown may take to write the events it still holds.
SHUTDOWN_FLUSH_SECONDS = 2.0

# The message the reference server records on a thread whose run was cancelled.
CANCELLED = "interrupt requested via POST /threads/{thread_id}/runs/{run_id}/cancel"


class StreamOptions(TypedDict):
    """The keyword arguments a run streams its graph with (`astream`, `astream_events`)."""

    context: Json | None
    stream_mode: list[StreamMode]
    subgraphs: bool
    interrupt_before: list[str] | Literal["*"] | None
    interrupt_after: list[str] | Literal["*"] | None
    durability: Durability


def _command(spec: Json) -> Command:
    goto = spec.get("goto")
    if isinstance(goto, dict):
        goto = Send(goto["node"], goto.get("input"))
    elif isinstance(goto, list):
        goto = [Send(g["node"], g.get("input")) if isinstance(g, dict) else g for g in goto]
    kwargs: dict[str, Any] = {}
    if "resume" in spec and spec["resume"] is not None:
        kwargs["resume"] = spec["resume"]
    if spec.get("update") is not None:
        kwargs["update"] = spec["update"]
    if goto is not None:
        kwargs["goto"] = goto
    return Command(**kwargs)


class RunExecutor:
    def __init__(
        self,
        runs: RunService,
        graphs: GraphRegistry,
        checkpointer: Any,
        store: Any,
        bus: EventBus,
        webhooks: WebhookSender,
        *,
        run_timeout: float | None = None,
    ):
        self.runs = runs
        self.graphs = graphs
        self.checkpointer = checkpointer
        self.store = store
        self.bus = bus
        self.webhooks = webhooks
        self.run_timeout = run_timeout
        self._leases: dict[tuple[str, int], Lease] = {}
        self._appenders: dict[tuple[str, int], Appender] = {}

    async def execute(self, run: RunRecord, lease: Lease | None = None) -> None:
        """Execute one attempt of `run` (without a lease: one that never runs out)."""
        lease = lease or Lease(run["run_id"], run["attempt"], float("inf"))
        key = (run["run_id"], run["attempt"])
        self._leases[key] = lease
        self._appenders[key] = self.bus.appender(
            run_channel(run["run_id"]), fence=lease, mirror=thread_channel(run["thread_id"])
        )
        try:
            await self._attempt(run, lease)
        except (LeaseLost, StaleAttempt) as exc:
            lease.lose(str(exc))
        except asyncio.CancelledError:
            if lease.lost is None:
                raise
        finally:
            del self._leases[key]
            self._appenders.pop(key).close()
        if lease.lost is not None:
            log.warning(
                "run %s: attempt %d stopped here and recorded nothing, %s; it resumes from its "
                "last checkpoint elsewhere", run["run_id"], run["attempt"], lease.lost,
            )  # fmt: skip

    def _lease(self, run: RunRecord) -> Lease:
        return self._leases[run["run_id"], run["attempt"]]

    def _appender(self, run: RunRecord) -> Appender:
        return self._appenders[run["run_id"], run["attempt"]]

    async def _attempt(self, run: RunRecord, lease: Lease) -> None:
        run_id = run["run_id"]
        started_at = clock.now()
        state: dict[str, Any] = {"cancel": None}
        graph_task: asyncio.Task | None = None

        def on_cancel(action: str) -> None:
            state["cancel"] = action
            if graph_task is not None and not graph_task.done():
                graph_task.cancel()

        status: RunStatus
        error: Json | None
        remove_handler = self.bus.on_cancel(run_id, on_cancel)
        outcome: dict[str, Any] = {"last_values": None, "snapshot": None}
        try:
            # First, so that it is on its way while the translator asks the bus (see
            # _translator): the first event waits for no round trip of its own.
            await self._publish(
                run, "metadata", serde.dumps({"run_id": run_id, "attempt": run["attempt"]})
            )
            outcome["protocol"] = await self._translator(run)
            graph_task = asyncio.create_task(self._run_graph(run, outcome))
            if state["cancel"]:
                graph_task.cancel()
            try:
                async with asyncio.timeout(self.run_timeout):
                    await graph_task
                status, error = "success", None
            except TimeoutError:
                status, error = "timeout", {"error": "TimeoutError", "message": ""}
            except asyncio.CancelledError:
                if state["cancel"] is None or lease.lost is not None:
                    raise  # stopping, or the lease is lost: see below
                status, error = (
                    "interrupted",
                    {"error": "UserInterrupt", "message": CANCELLED},
                )
            except (LeaseLost, StaleAttempt):
                raise
            except Unavailable as exc:
                # The database or the bus failed the graph mid-step: not the graph's error.
                # Back to the queue; it resumes from its last checkpoint.
                log.warning("run %s: handed back to the queue, %s", run_id, exc.detail)
                await lease.persist(self._appender(run).flush)
                await lease.persist(lambda: self.runs.release(run, fence=lease))
                return
            except Exception as exc:
                log.debug("run %s raised", run_id, exc_info=True)
                status, error = "error", {"error": type(exc).__name__, "message": str(exc)}
                await self._publish(run, "error", serde.dumps(error))
        except (asyncio.CancelledError, LeaseLost, StaleAttempt) as exc:
            if graph_task is not None and not graph_task.done():
                graph_task.cancel()
            if isinstance(exc, asyncio.CancelledError) and lease.lost is None:
                # shutting down: back to pending, resumed at the next start
                with contextlib.suppress(Exception):  # the events so far, if the bus lets us
                    await asyncio.wait_for(self._appender(run).flush(), SHUTDOWN_FLUSH_SECONDS)
                try:
                    await self.runs.release(run, fence=lease)
                except Unavailable as down:
                    log.warning("run %s: not handed back (%s); it is re-queued when its "
                                "lease runs out", run_id, down.detail)  # fmt: skip
            raise
        finally:
            remove_handler()
        await self._finish(run, status, error, state["cancel"], outcome, started_at)

    async def _translator(self, run: RunRecord) -> ProtocolTranslator | None:
        """A run streams the v3 protocol's events to its thread's log when it was started
        through the protocol, or when a protocol subscriber watches its thread as it starts;
        other runs pay nothing for it."""
        kwargs = run["kwargs"]
        if "events" in (kwargs.get("stream_mode") or ()):
            return None
        if kwargs.get("protocol") != "v3" and not await self.bus.thread_watched(run["thread_id"]):
            return None
        graph = (run.get("metadata") or {}).get("graph_id") or run["assistant_id"]
        return ProtocolTranslator(run["run_id"], graph)

    async def _thread_append(self, run: RunRecord, events: list) -> None:
        if events:
            await self.bus.append_thread_events(run["thread_id"], events)

    async def _publish(self, run: RunRecord, event: str, data: bytes) -> None:
        """To the run's stream, and to its thread's if someone follows that: handed to the
        run's appender, which writes in order without the run waiting for each write (it
        waits only when too much is left to write, or the bus is out of reach)."""
        appender = self._appender(run)
        appender.put(event, data)
        lease = self._lease(run)
        if appender.blocked:
            await lease.persist(appender.ready)
        else:
            lease.check()  # an attempt that lost its run stops here, as at any write

    async def _graph_and_config(self, run: RunRecord) -> tuple[GraphEntry, RunnableConfig, Json]:
        """The graph to run and its config: as merged when the run was created
        (services/run_config.py), plus what this attempt adds."""
        kwargs = run["kwargs"]
        graph_id = kwargs.get("graph_id")
        if graph_id is None:  # a run recorded before kwargs named its graph
            graph_id = (await self.runs.assistant_record(run["assistant_id"]))["graph_id"]
        stored: RunnableConfig = kwargs.get("config") or {}
        configurable: dict[str, Any] = dict(stored.get("configurable") or {})
        configurable.setdefault("checkpoint_ns", "")
        config: RunnableConfig = {
            **stored,
            "configurable": configurable,
            "metadata": {
                **(stored.get("metadata") or {}),
                "run_attempt": run["attempt"],
                "langgraph_version": LANGGRAPH_VERSION,
                "langgraph_api_version": __version__,
                "langgraph_host": "self-hosted",
            },
            "run_id": uuid.UUID(run["run_id"]),
        }
        return self.graphs.get(graph_id), config, kwargs.get("context") or {}

    async def _run_graph(self, run: RunRecord, outcome: dict) -> None:
        kwargs = run["kwargs"]
        lease = self._lease(run)
        entry, config, context = await lease.persist(lambda: self._graph_and_config(run))
        config["configurable"][FENCE_KEY] = lease  # the checkpointer fences the run's writes
        state_config: RunnableConfig = {
            **config,
            "configurable": {
                k: v
                for k, v in config["configurable"].items()
                if k not in ("checkpoint_id", "checkpoint_map")
            },
        }
        run_config = config
        checkpoint = kwargs.get("checkpoint")
        if checkpoint:
            # Only the address within this run's own thread (the service refused any other).
            start = {k: v for k, v in checkpoint.items() if k in CHECKPOINT_ADDRESS_KEYS}
            run_config = {**config, "configurable": {**config["configurable"], **start}}
        modes = kwargs.get("stream_mode") or ["values"]
        subgraphs = bool(kwargs.get("subgraphs"))
        shaper = EventShaper(modes)
        classic = pregel_modes(modes)
        protocol: ProtocolTranslator | None = outcome.get("protocol")
        stream_modes: list[StreamMode] = classic
        if protocol is not None:
            await self._thread_append(run, protocol.started())
            stream_modes = sorted(set(classic) | set(PREGEL_MODES))
            if "messages" in classic:
                protocol.messages = False  # the classic modes keep langgraph's v1 chunks
            else:
                run_config = {
                    **run_config,
                    "configurable": {
                        **run_config["configurable"],
                        CONFIG_KEY_STREAM_MESSAGES_V2: True,
                    },
                }
        user = config["configurable"].get("langgraph_auth_user")
        access = GraphAccess.of("threads.create_run", user, context or None)
        async with entry.open(
            config, checkpointer=self.checkpointer, store=self.store, access=access
        ) as graph:
            command = kwargs.get("command")
            graph_input: Any = _command(command) if command else kwargs.get("input")
            if kwargs.get("resume_if_interrupted") and not command:
                # the protocol's run.start: on a thread waiting at an interrupt, the input
                # is the answer (decided now, when no other run of the thread is running)
                snapshot = await graph.aget_state(state_config)
                if snapshot.interrupts:
                    graph_input = Command(resume=kwargs.get("input"))
            if run["attempt"] > 1 and await self._has_progress(graph, state_config, run["run_id"]):
                graph_input = None  # resumed after a crash: continue from the last checkpoint
                run_config = state_config
            options: StreamOptions = {
                "context": context or None,
                "stream_mode": stream_modes,
                "subgraphs": subgraphs or protocol is not None,
                "interrupt_before": kwargs.get("interrupt_before"),
                "interrupt_after": kwargs.get("interrupt_after"),
                "durability": kwargs["durability"],
            }
            if "events" in modes:
                stream = self._with_events(graph, graph_input, run_config, options, run)
            elif protocol is not None:
                # v2 parts: langgraph attaches its content-block message handler only to them
                stream = _v1_parts(graph.astream(graph_input, run_config, **options, version="v2"))
            else:
                stream = graph.astream(graph_input, run_config, **options)
            async for item in stream:
                if subgraphs or protocol is not None:
                    namespace, mode, chunk = item
                else:
                    (mode, chunk), namespace = item, ()
                if mode == "values" and not namespace:
                    outcome["last_values"] = chunk
                if mode in classic and (subgraphs or not namespace):
                    for name, data in shaper.shape(namespace, mode, chunk):
                        await self._publish(run, name, data)
                if protocol is not None:
                    await self._thread_append(run, protocol.translate(namespace, mode, chunk))
            outcome["output_keys"] = graph.output_channels
            if _needs_snapshot(kwargs, outcome["last_values"]):
                outcome["snapshot"] = await graph.aget_state(state_config)
            else:
                outcome["finished_cleanly"] = True

    async def _with_events(self, graph, graph_input, config, options, run):
        """`events` mode: langgraph's astream_events, with the other modes read off its root stream."""
        root_id = run["run_id"]
        subgraphs = options["subgraphs"]
        async for event in graph.astream_events(
            graph_input, config, version="v2", **{**options, "subgraphs": True}
        ):
            await self._publish(run, "events", serde.dumps(event))
            if event.get("event") == "on_chain_stream" and str(event.get("run_id")) == root_id:
                chunk = event.get("data", {}).get("chunk")
                if isinstance(chunk, tuple) and len(chunk) == 3:
                    namespace, mode, data = chunk
                    if namespace and not subgraphs:
                        continue
                    yield (namespace, mode, data) if subgraphs else (mode, data)

    async def _has_progress(self, graph: Pregel, config: RunnableConfig, run_id: str) -> bool:
        snapshot = await graph.aget_state(config)
        return bool(snapshot.config) and (snapshot.metadata or {}).get("run_id") == run_id

    async def _final_snapshot(self, run: RunRecord, outcome: dict):
        if outcome.get("snapshot") is not None:
            return outcome["snapshot"]
        try:
            entry, config, _ = await self._graph_and_config(run)
            config["configurable"].pop("checkpoint_id", None)
            config["configurable"][FENCE_KEY] = self._lease(run)  # waits out an outage
            user = config["configurable"].get("langgraph_auth_user")
            async with entry.open(
                config,
                checkpointer=self.checkpointer,
                store=self.store,
                access=GraphAccess.of("threads.read", user),
            ) as graph:
                return await graph.aget_state(config)
        except Exception:
            log.exception("reading the final state of run %s failed", run["run_id"])
            return None

    async def _finish(
        self,
        run: RunRecord,
        status: RunStatus,
        error: Json | None,
        cancel: str | None,
        outcome: dict,
        started_at,
    ) -> None:
        run_id, thread_id = run["run_id"], run["thread_id"]
        temporary = run["kwargs"].get("temporary")
        lease = self._lease(run)
        lease.check()
        # Every event of the run is written before its end is recorded.
        await lease.persist(self._appender(run).flush)
        if cancel == "rollback":
            await lease.persist(lambda: self.checkpointer.adelete_for_runs([run_id]))
        protocol: ProtocolTranslator | None = outcome.get("protocol")
        if cancel == "delete":
            await lease.persist(lambda: self.runs.settle_thread(thread_id))
            await self._close(run, None, temporary=temporary)
            if protocol is not None:
                await self._thread_append(run, protocol.finished("cancelled"))
            return
        values = outcome["last_values"]
        if outcome.get("finished_cleanly") and status == "success":
            # Ran to its end with no interrupt: the last values are the state, nothing is next.
            thread_values: dict[str, Any] = {
                "values": serde.to_jsonable(values),
                "interrupts": {},
                "error": None,
                "status": "idle",
            }
        else:
            snapshot = await self._final_snapshot(run, outcome)
            if values is None and snapshot is not None and snapshot.config:
                values = snapshot.values
            thread_values = {
                "values": serde.to_jsonable(snapshot.values)
                if snapshot is not None and snapshot.config
                else None,
                "interrupts": thread_interrupts(snapshot) if snapshot is not None else {},
                "error": None if cancel == "rollback" else error,
                "status": _thread_status_after(status, cancel, snapshot),
            }
        try:
            await lease.persist(
                lambda: self.runs.mark_finished(
                    run,
                    status=status,
                    thread_values=thread_values,
                    delete_run=cancel == "rollback",
                    fence=lease,
                )
            )
        except Exception as exc:
            if isinstance(exc, LeaseLost | StaleAttempt) or not _refused_value(exc):
                raise  # lost the run, or the database is away: another attempt ends it
            # The graph ended, but its state holds what the database cannot store (a NUL
            # character in Postgres JSON, say): the run ends as an error that says so, now,
            # rather than staying `running` until its lease runs out.
            log.warning("run %s: recording its result failed: %s", run_id, exc)
            status = "error"
            error = {
                "error": "ResultNotRecorded",
                "message": "the run finished, but its final state could not be stored: "
                f"{_first_line(exc)}",
            }
            await self._publish(run, "error", serde.dumps(error))
            await lease.persist(
                lambda: self.runs.mark_finished(
                    run,
                    status="error",
                    thread_values={"error": error, "status": "error"},
                    fence=lease,
                )
            )
        lease.end()
        if status == "error":
            result = {"__error__": error}
        else:
            result = _output(values, outcome.get("output_keys"))
        await self._close(run, serde.dumps(result), temporary=temporary)
        if protocol is not None:
            await self._thread_append(
                run, protocol.finished(*_lifecycle_end(status, error, cancel, thread_values))
            )
        webhook = run["kwargs"].get("webhook")
        if webhook and self.runs.webhooks_enabled and cancel != "rollback":
            payload = {
                **run_shape({**run, "status": status, "updated_at": clock.now()}),
                "run_started_at": started_at,
                "run_ended_at": clock.now(),
                "values": None if temporary else serde.to_jsonable(values),
            }
            if error is not None:
                payload["error"] = error
            self.webhooks.send(webhook, payload)

    async def _close(
        self, run: RunRecord, result: bytes | None, *, temporary: bool = False
    ) -> None:
        """Publish the result and end the run's log: what releases its waiters and streams.
        A stateless run's temporary thread goes first, so no client that heard the run
        end can still find its thread."""
        if temporary:
            try:
                await self.runs.delete_temporary_thread(run["thread_id"])
            except Exception:  # the waiters must still hear the end
                log.exception("deleting the temporary thread of run %s failed", run["run_id"])
        lease = self._lease(run)
        appender = self._appender(run)
        if result is not None:
            appender.put(RESULT_EVENT, result, mirrored=False)
        await lease.persist(appender.flush)
        channel = run_channel(run["run_id"])
        if not await lease.persist(lambda: self.bus.close_channel(channel, fence=lease)):
            lease.lose("a later attempt of the run publishes its events")
            lease.check()
        thread = thread_channel(run["thread_id"])
        if await lease.persist(lambda: self.bus.has_channel(thread)):
            done = serde.dumps({"status": "run_done", "run_id": run["run_id"]})
            await lease.persist(lambda: self.bus.publish(thread, "metadata", done, fence=lease))


def _refused_value(exc: BaseException) -> bool:
    """The database refused a value (as opposed to being unreachable)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        names = {c.__name__ for c in type(seen).__mro__}
        if names & {"DataError", "UntranslatableCharacter", "IntegrityError", "ValueError"}:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def _first_line(exc: BaseException) -> str:
    """The error's own message, without the SQL statement SQLAlchemy appends."""
    cause = getattr(exc, "orig", None) or exc
    return f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"


async def _v1_parts(parts):
    """langgraph's v2 stream parts as the `(namespace, mode, chunk)` of its v1 stream (a
    values chunk carries its interrupts under `__interrupt__`, as in v1)."""
    async for part in parts:
        chunk = part["data"]
        if part["type"] == "values" and part.get("interrupts") and isinstance(chunk, dict):
            chunk = {**chunk, "__interrupt__": part["interrupts"]}
        yield part["ns"], part["type"], chunk


def _lifecycle_end(
    status: str, error: dict | None, cancel: str | None, thread_values: dict
) -> tuple[str, str | None]:
    """How the protocol's lifecycle reports a run's end."""
    if cancel is not None:
        return "cancelled", None
    if status in ("error", "timeout"):
        message = (error or {}).get("message") or (error or {}).get("error") or status
        return "failed", f"{(error or {}).get('error', status)}: {message}"
    if thread_values.get("status") == "interrupted":
        return "interrupted", None
    return "completed", None


def _needs_snapshot(kwargs: RunKwargs, last_values: Any) -> bool:
    """Only a run that stopped early (an interrupt) leaves more to read than its last values."""
    return (
        not isinstance(last_values, dict)
        or "__interrupt__" in last_values
        or bool(kwargs.get("interrupt_before"))
        or bool(kwargs.get("interrupt_after"))
    )


def _thread_status_after(status: str, cancel: str | None, snapshot) -> str:
    if status in ("error", "timeout"):
        return "error"
    if cancel == "interrupt":
        return "interrupted"  # cancelled mid-run: there is more to do, as the reference reports it
    return thread_status(snapshot)


def _output(values: Any, output_keys: Any) -> Any:
    """What `invoke` would return: the state narrowed to the graph's output schema."""
    if values is None:
        return {}
    if isinstance(values, dict) and isinstance(output_keys, list):
        return {k: v for k, v in values.items() if k in output_keys or k == "__interrupt__"}
    if isinstance(values, dict) and isinstance(output_keys, str):
        return values.get(output_keys)
    return values
