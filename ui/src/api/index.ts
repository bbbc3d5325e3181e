// The API, one function per endpoint the UI uses: the public LangGraph API only.

import { call, page, type Page } from "./http";
import { streamPost, type StreamEvent } from "./sse";
import type {
  Assistant,
  AssistantVersion,
  Cron,
  GraphJson,
  GraphSchemas,
  Item,
  Json,
  JsonObject,
  Run,
  ServerInfo,
  Thread,
  ThreadState,
  ThreadStatus,
} from "./types";

export { ApiError, onAuthRequired, currentCredentials, setCredentials } from "./http";
export type { Page } from "./http";
export type { StreamEvent } from "./sse";

const e = encodeURIComponent;

let serverInfo: Promise<ServerInfo> | undefined;
/** GET /info, asked once per page (again after a failure, such as a 401 before sign-in). */
export const info = (): Promise<ServerInfo> =>
  (serverInfo ??= call<ServerInfo>("GET", "/info").catch((error) => {
    serverInfo = undefined;
    throw error;
  }));

export const assistants = {
  search: (body: { graph_id?: string; metadata?: JsonObject; limit?: number; offset?: number }) =>
    call<Assistant[]>("POST", "/assistants/search", { body }),
  get: (id: string) => call<Assistant>("GET", `/assistants/${e(id)}`),
  graph: (id: string, xray: boolean | number) =>
    call<GraphJson>("GET", `/assistants/${e(id)}/graph`, { query: { xray } }),
  schemas: (id: string) => call<GraphSchemas>("GET", `/assistants/${e(id)}/schemas`),
  versions: (id: string) => call<AssistantVersion[]>("POST", `/assistants/${e(id)}/versions`, { body: { limit: 100 } }),
  setLatest: (id: string, version: number) =>
    call<Assistant>("POST", `/assistants/${e(id)}/latest`, { body: { version } }),
  create: (body: {
    graph_id: string;
    name?: string;
    description?: string;
    config?: JsonObject;
    context?: JsonObject;
    metadata?: JsonObject;
  }) => call<Assistant>("POST", "/assistants", { body }),
  update: (
    id: string,
    body: { name?: string; description?: string; config?: JsonObject; context?: JsonObject; metadata?: JsonObject },
  ) => call<Assistant>("PATCH", `/assistants/${e(id)}`, { body }),
};

export interface ThreadQuery {
  status?: ThreadStatus;
  metadata?: JsonObject;
  ids?: string[];
  limit: number;
  offset: number;
}

export const threads = {
  search: (q: ThreadQuery): Promise<Page<Thread>> =>
    page<Thread>("POST", "/threads/search", { body: { ...q, sort_by: "created_at", sort_order: "desc" } }),
  count: (q: { status?: ThreadStatus; metadata?: JsonObject }) => call<number>("POST", "/threads/count", { body: q }),
  create: (metadata: JsonObject) => call<Thread>("POST", "/threads", { body: { metadata } }),
  copy: (id: string) => call<Thread>("POST", `/threads/${e(id)}/copy`),
  delete: (id: string) => call<null>("DELETE", `/threads/${e(id)}`),
  get: (id: string) => call<Thread>("GET", `/threads/${e(id)}`),
  state: (id: string, checkpointId?: string) =>
    call<ThreadState>("GET", checkpointId ? `/threads/${e(id)}/state/${e(checkpointId)}` : `/threads/${e(id)}/state`),
  history: (id: string, limit = 100) => call<ThreadState[]>("POST", `/threads/${e(id)}/history`, { body: { limit } }),
  updateState: (id: string, body: { values: Json; checkpoint_id?: string; as_node?: string }) =>
    call<{ checkpoint: { checkpoint_id: string } }>("POST", `/threads/${e(id)}/state`, { body }),
  runs: (id: string) => call<Run[]>("GET", `/threads/${e(id)}/runs`, { query: { limit: 50 } }),
};

export interface RunRequest {
  assistant_id: string;
  input?: Json;
  command?: { resume?: Json };
  checkpoint_id?: string;
  stream_mode: string[];
  stream_subgraphs: boolean;
  config?: JsonObject;
  context?: JsonObject;
}

export const runs = {
  stream: (threadId: string, body: RunRequest, signal?: AbortSignal): AsyncGenerator<StreamEvent> =>
    streamPost(`/threads/${e(threadId)}/runs/stream`, body, signal),
  get: (threadId: string, runId: string) => call<Run>("GET", `/threads/${e(threadId)}/runs/${e(runId)}`),
  cancel: (threadId: string, runId: string) => call<null>("POST", `/threads/${e(threadId)}/runs/${e(runId)}/cancel`),
};

export const store = {
  namespaces: (body: { prefix?: string[]; max_depth?: number; limit?: number; offset?: number }) =>
    call<{ namespaces: string[][] }>("POST", "/store/namespaces", { body }),
  search: (body: { namespace_prefix: string[]; query?: string; filter?: JsonObject; limit: number; offset: number }) =>
    call<{ items: Item[] }>("POST", "/store/items/search", { body }),
  put: (body: { namespace: string[]; key: string; value: JsonObject }) => call<null>("PUT", "/store/items", { body }),
  delete: (body: { namespace: string[]; key: string }) => call<null>("DELETE", "/store/items", { body }),
};

export const crons = {
  search: (body: { assistant_id?: string; limit: number; offset: number }) =>
    page<Cron>("POST", "/runs/crons/search", { body: { ...body, sort_by: "created_at", sort_order: "desc" } }),
  create: (
    body: { assistant_id: string; schedule: string; input?: Json; metadata?: JsonObject; timezone?: string },
    threadId?: string,
  ) => call<Cron>("POST", threadId ? `/threads/${e(threadId)}/runs/crons` : "/runs/crons", { body }),
  delete: (id: string) => call<null>("DELETE", `/runs/crons/${e(id)}`),
};
