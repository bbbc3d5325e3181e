"""The A2A request handler: tasks are runs, contexts are threads.

A message without a `taskId` starts a task: a run on the thread its `contextId` names (a
new thread without one), so a later message with the same `contextId` continues the
conversation. The task's id is `<thread_id>:<run_id>` of that first run, so a task is
found without a lookup table. A message on a task that stopped at an interrupt
(`input-required`) resumes the thread with the message as the answer; that run carries
the task id in its metadata, and the task's state is that of its latest run.

The SDK's JSON-RPC dispatcher frames the protocol (1.0 and 0.3 method names); this class
only answers it, through the same auth handlers and services the classic API uses.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from a2a.helpers import new_text_part
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers.request_handler import RequestHandler
from a2a.types import (
    AgentCard,
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTaskPushNotificationConfigsResponse,
    ListTasksRequest,
    ListTasksResponse,
    Message,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskArtifactUpdateEvent,
    TaskPushNotificationConfig,
    TaskState,
    TaskStatus,
    TaskStatusUpdateEvent,
)
from a2a.utils.errors import (
    A2AError,
    ExtendedAgentCardNotConfiguredError,
    InvalidParamsError,
    InvalidRequestError,
    PushNotificationNotSupportedError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from google.protobuf.timestamp_pb2 import Timestamp
from starlette.requests import Request

from graphdock.server.api import agent_runs
from graphdock.server.api.a2a import messages
from graphdock.server.api.caller import Caller, current_caller
from graphdock.server.api.deps import services
from graphdock.server.api.errors import ApiError
from graphdock.server.api.routes.threads import authorize_search
from graphdock.server.ports.records import AssistantRecord
from graphdock.server.services.errors import NotFound, ServiceError
from graphdock.server.services.ids import canonical_uuid

TASK_KEY = "a2a_task_id"  # run metadata: the task a resuming run belongs to
RUN_SCAN = 100  # runs of one thread read to find a task's latest run
TERMINAL = (
    TaskState.TASK_STATE_COMPLETED,
    TaskState.TASK_STATE_FAILED,
    TaskState.TASK_STATE_CANCELED,
)
RUN_STATES = {
    "pending": TaskState.TASK_STATE_SUBMITTED,
    "running": TaskState.TASK_STATE_WORKING,
    "success": TaskState.TASK_STATE_COMPLETED,
    "error": TaskState.TASK_STATE_FAILED,
    "timeout": TaskState.TASK_STATE_FAILED,
    "interrupted": TaskState.TASK_STATE_CANCELED,  # a cancelled run; an interrupt() ends in success
}
STREAM_MODES = ["values", "messages"]  # `messages` gives each reply as it grows


def state_name(state: int) -> str:
    return TaskState.Name(state).removeprefix("TASK_STATE_").lower().replace("_", "-")


@dataclass
class Call:
    """One A2A request: its HTTP request, its caller, the assistant it addresses."""

    request: Request
    caller: Caller
    assistant: AssistantRecord

    @property
    def assistant_id(self) -> str:
        return self.assistant["assistant_id"]


async def find_assistant(request: Request, caller: Caller, assistant_id: str) -> AssistantRecord:
    """The assistant a path names (a UUID, or a graph name for its system assistant),
    if the caller may run it. Raises NotFound."""
    await caller.authorize("assistants.read", {"assistant_id": assistant_id})
    svc = services(request).assistants
    try:
        return await svc.resolve(
            assistant_id, caller.ctx, not_found=f"Assistant '{assistant_id}' not found"
        )
    except ServiceError as exc:
        raise NotFound(f"Assistant '{assistant_id}' not found") from exc


@dataclass
class TaskView:
    """A task as stored: its latest run and the thread it ran on."""

    task_id: str
    run: dict
    thread: dict
    latest_of_thread: bool

    @property
    def thread_id(self) -> str:
        return self.thread["thread_id"]

    @property
    def state(self) -> TaskState:
        state = RUN_STATES.get(self.run["status"], TaskState.TASK_STATE_SUBMITTED)
        if (
            state == TaskState.TASK_STATE_COMPLETED
            and self.latest_of_thread
            and self.thread.get("status") == "interrupted"
        ):
            return TaskState.TASK_STATE_INPUT_REQUIRED
        return state

    def to_task(self, history_length: int | None, with_artifacts: bool = True) -> Task:
        state, values, tid = self.state, self.thread.get("values"), self.task_id
        status = TaskStatus(state=state, timestamp=_timestamp(self.run.get("updated_at")))
        if state == TaskState.TASK_STATE_INPUT_REQUIRED:
            asked = [i for group in (self.thread.get("interrupts") or {}).values() for i in group]
            status.message.CopyFrom(messages.interrupt_message(asked, self.thread_id, tid))
        elif state == TaskState.TASK_STATE_FAILED:
            error = (self.thread.get("error") if self.latest_of_thread else None) or {}
            text = agent_runs.error_text(error) if error else "The run failed"
            status.message.CopyFrom(
                messages.agent_message([new_text_part(text)], self.thread_id, tid)
            )
        task = Task(
            id=tid,
            context_id=self.thread_id,
            status=status,
            history=messages.history(values, self.thread_id, tid, history_length),
        )
        if with_artifacts and state == TaskState.TASK_STATE_COMPLETED and self.latest_of_thread:
            task.artifacts.append(messages.artifact(values, tid))
        return task


def _timestamp(value: Any) -> Timestamp:
    stamp = Timestamp()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if isinstance(value, datetime):
        stamp.FromDatetime(value)
    else:
        stamp.GetCurrentTime()
    return stamp


def _parse_task_id(task_id: str) -> tuple[str, str]:
    thread, _, run = task_id.partition(":")
    thread_id, run_id = canonical_uuid(thread), canonical_uuid(run)
    if thread_id is None or run_id is None:
        raise TaskNotFoundError(message=f"Task not found: {task_id}")
    return thread_id, run_id


def _history_length(config: Any, field: str = "history_length") -> int | None:
    try:
        return getattr(config, field) if config.HasField(field) else None
    except ValueError:  # a field without presence: 0 means unset
        return getattr(config, field) or None


def _a2a_error(exc: ServiceError | ApiError) -> A2AError:
    """A service's or an auth handler's refusal, as the protocol's error."""
    status = getattr(exc, "status", 400)
    if status in (401, 403):
        return InvalidRequestError(message=f"Not allowed: {exc.detail}")
    return InvalidParamsError(message=exc.detail)


@dataclass
class Plan:
    """What a message asks for: a run on a thread, as a new task or as part of one."""

    thread_id: str
    task_id: str | None
    input: Any = None
    command: dict | None = None


class AssistantAgent(RequestHandler):
    """Every assistant's A2A agent (the path names the assistant)."""

    async def _call(self, context: ServerCallContext) -> Call:
        request: Request = context.state["request"]
        caller = current_caller(request)
        try:
            assistant = await find_assistant(request, caller, request.path_params["assistant_id"])
        except (ServiceError, ApiError) as exc:
            raise _a2a_error(exc) from None
        return Call(request, caller, assistant)

    # ---------------------------------------------------------------- reading tasks
    async def _load(self, call: Call, task_id: str) -> TaskView:
        thread_id, anchor_id = _parse_task_id(task_id)
        svc, ctx = services(call.request), call.caller.ctx
        try:
            await call.caller.authorize(
                "threads.read", {"thread_id": thread_id, "run_id": anchor_id}
            )
            thread = await svc.threads.get(thread_id, ctx)
            runs = await svc.runs.list(thread_id, ctx, limit=RUN_SCAN, offset=0, status=None)
        except (ServiceError, ApiError):
            raise TaskNotFoundError(message=f"Task not found: {task_id}") from None
        view = self._view(task_id, anchor_id, runs, thread, call.assistant_id)
        if view is None:
            raise TaskNotFoundError(message=f"Task not found: {task_id}")
        return view

    @staticmethod
    def _view(
        task_id: str, anchor_id: str, runs: list[dict], thread: dict, assistant_id: str
    ) -> TaskView | None:
        """The task among a thread's runs (newest first), or None."""
        mine = [
            r
            for r in runs
            if r["assistant_id"] == assistant_id
            and (r["run_id"] == anchor_id or (r.get("metadata") or {}).get(TASK_KEY) == task_id)
        ]
        if not any(r["run_id"] == anchor_id for r in mine):
            return None
        latest = max(mine, key=lambda r: (str(r["created_at"]), r["run_id"]))
        newest = max(runs, key=lambda r: (str(r["created_at"]), r["run_id"]))
        return TaskView(task_id, latest, thread, latest["run_id"] == newest["run_id"])

    async def on_get_task(self, params: GetTaskRequest, context: ServerCallContext) -> Task:
        call = await self._call(context)
        view = await self._load(call, params.id)
        return view.to_task(_history_length(params))

    async def on_list_tasks(
        self, params: ListTasksRequest, context: ServerCallContext
    ) -> ListTasksResponse:
        call = await self._call(context)
        svc, ctx = services(call.request), call.caller.ctx
        size = params.page_size or 50
        if not 1 <= size <= 100:
            raise InvalidParamsError(message="pageSize must be between 1 and 100")
        try:
            offset = int(params.page_token or 0)
        except ValueError:
            raise InvalidParamsError(message="pageToken is not one this server gave") from None
        if params.context_id:
            thread_id = canonical_uuid(params.context_id)
            if thread_id is None:
                raise InvalidParamsError(message="contextId must be a UUID (it names a thread)")
            fields: dict[str, Any] = {"ids": [thread_id], "limit": 1}
        else:
            fields = {"metadata": {"assistant_id": call.assistant_id}, "limit": RUN_SCAN}
        try:
            await authorize_search(call.caller, fields)
            threads, _ = await svc.threads.search(fields, ctx)
        except (ServiceError, ApiError) as exc:
            raise _a2a_error(exc) from None
        views: list[TaskView] = []
        for thread in threads:
            runs = await svc.runs.list(
                thread["thread_id"], ctx, limit=RUN_SCAN, offset=0, status=None
            )
            for run in runs:
                if run["assistant_id"] != call.assistant_id or TASK_KEY in (run["metadata"] or {}):
                    continue
                task_id = f"{thread['thread_id']}:{run['run_id']}"
                view = self._view(task_id, run["run_id"], runs, thread, call.assistant_id)
                if view is not None and (not params.status or view.state == params.status):
                    views.append(view)
        views.sort(key=lambda v: str(v.run["updated_at"]), reverse=True)
        page = views[offset : offset + size]
        length = _history_length(params)
        return ListTasksResponse(
            tasks=[v.to_task(length, params.include_artifacts) for v in page],
            next_page_token=str(offset + size) if offset + size < len(views) else "",
            page_size=size,
            total_size=len(views),
        )

    async def on_cancel_task(self, params: CancelTaskRequest, context: ServerCallContext) -> Task:
        call = await self._call(context)
        view = await self._load(call, params.id)
        run = view.run
        if run["status"] not in ("pending", "running"):
            raise TaskNotCancelableError(
                message=f"Task {params.id} is {state_name(view.state)}: nothing of it is "
                "running, so there is nothing to cancel"
            )
        svc = services(call.request).runs
        value = {"thread_id": view.thread_id, "run_id": run["run_id"], "action": "interrupt"}
        try:
            await call.caller.authorize("threads.update", value)
            await svc.cancel(view.thread_id, run["run_id"], call.caller.ctx, action="interrupt")
        except (ServiceError, ApiError) as exc:
            raise _a2a_error(exc) from None
        await svc.wait_until_done(run, timeout=30)
        return (await self._load(call, params.id)).to_task(None)

    # ---------------------------------------------------------------- sending messages
    async def _plan(self, call: Call, message: Message) -> Plan:
        if message.task_id:
            view = await self._load(call, message.task_id)
            if message.context_id and canonical_uuid(message.context_id) != view.thread_id:
                raise InvalidParamsError(
                    message=f"Task {message.task_id} belongs to context {view.thread_id}, "
                    f"not {message.context_id}"
                )
            if view.state in TERMINAL:
                raise UnsupportedOperationError(
                    message=f"Task {message.task_id} is {state_name(view.state)} and takes no "
                    "more messages; send one without taskId (and the same contextId to go "
                    "on with the conversation)"
                )
            if view.state == TaskState.TASK_STATE_INPUT_REQUIRED:
                answer = messages.resume_value(message)
                return Plan(view.thread_id, view.task_id, command={"resume": answer})
            return Plan(view.thread_id, view.task_id, input=await self._input(call, message))
        if message.context_id:
            context_id = canonical_uuid(message.context_id)
            if context_id is None:
                raise InvalidParamsError(message="contextId must be a UUID (it names a thread)")
            thread_id = context_id
        else:
            thread_id = str(uuid.uuid4())
        return Plan(thread_id, None, input=await self._input(call, message))

    async def _input(self, call: Call, message: Message) -> dict:
        try:
            schema = await services(call.request).assistants.input_schema(call.assistant)
        except ServiceError:
            schema = None
        takes_messages = schema is None or "messages" in (schema.get("properties") or {})
        return messages.graph_input(message, takes_messages)

    async def _start(self, call: Call, params: SendMessageRequest, modes: list[str] | None):
        plan = await self._plan(call, params.message)
        try:
            run = await agent_runs.start_run(
                call.request,
                call.caller,
                call.assistant_id,
                thread_id=plan.thread_id,
                input=plan.input,
                command=plan.command,
                metadata={TASK_KEY: plan.task_id} if plan.task_id else None,
                stream_mode=modes,
                create_thread=True,
            )
        except (ServiceError, ApiError) as exc:
            raise _a2a_error(exc) from None
        return run, plan.task_id or f"{run['thread_id']}:{run['run_id']}"

    async def on_message_send(self, params: SendMessageRequest, context: ServerCallContext) -> Task:
        call = await self._call(context)
        run, task_id = await self._start(call, params, None)
        if not params.configuration.return_immediately:
            await services(call.request).runs.wait_until_done(run)
        view = await self._load(call, task_id)
        return view.to_task(_history_length(params.configuration))

    async def on_message_send_stream(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> AsyncGenerator[Any]:
        """The task, `working` updates carrying the reply so far, the artifact, the end."""
        call = await self._call(context)
        run, task_id = await self._start(call, params, STREAM_MODES)
        thread_id = run["thread_id"]
        sent = Message()
        sent.CopyFrom(params.message)
        sent.task_id, sent.context_id = task_id, thread_id
        yield Task(
            id=task_id,
            context_id=thread_id,
            status=TaskStatus(state=TaskState.TASK_STATE_SUBMITTED, timestamp=_timestamp(None)),
            history=[sent],
        )
        working, said = False, None
        async for name, data in agent_runs.events(call.request, run):
            text = None
            if name == "messages/partial" and isinstance(data, list) and data:
                last = data[-1] if isinstance(data[-1], dict) else {}
                text = None if messages.is_user(last) else messages.text_of(last.get("content"))
            elif name == "values":
                text = messages.reply_text(data)
            if working and (not text or text == said):
                continue
            working, said = True, text or said
            status = TaskStatus(state=TaskState.TASK_STATE_WORKING, timestamp=_timestamp(None))
            if text:
                status.message.CopyFrom(
                    messages.agent_message([new_text_part(text)], thread_id, task_id)
                )
            yield TaskStatusUpdateEvent(task_id=task_id, context_id=thread_id, status=status)
        final = (await self._load(call, task_id)).to_task(0)
        for artifact in final.artifacts:
            yield TaskArtifactUpdateEvent(
                task_id=task_id, context_id=thread_id, artifact=artifact, last_chunk=True
            )
        yield TaskStatusUpdateEvent(task_id=task_id, context_id=thread_id, status=final.status)

    # ---------------------------------------------------------------- not offered
    async def on_subscribe_to_task(
        self, params: SubscribeToTaskRequest, context: ServerCallContext
    ) -> AsyncGenerator[Any]:
        for _ in ():  # an async generator, as the interface declares: one that yields nothing
            yield
        raise UnsupportedOperationError(message="Resubscribing to a task is not supported")

    async def on_create_task_push_notification_config(
        self, params: TaskPushNotificationConfig, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        raise PushNotificationNotSupportedError(message="Push notifications are not supported")

    async def on_get_task_push_notification_config(
        self, params: GetTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        raise PushNotificationNotSupportedError(message="Push notifications are not supported")

    async def on_list_task_push_notification_configs(
        self, params: ListTaskPushNotificationConfigsRequest, context: ServerCallContext
    ) -> ListTaskPushNotificationConfigsResponse:
        raise PushNotificationNotSupportedError(message="Push notifications are not supported")

    async def on_delete_task_push_notification_config(
        self, params: DeleteTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> None:
        raise PushNotificationNotSupportedError(message="Push notifications are not supported")

    async def on_get_extended_agent_card(
        self, params: GetExtendedAgentCardRequest, context: ServerCallContext
    ) -> AgentCard:
        raise ExtendedAgentCardNotConfiguredError(message="This agent has no extended card")
