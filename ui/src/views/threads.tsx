// Threads: a searchable, paginated list (status, graph, metadata), counts by status,
// and create / copy / delete.

import { useState } from "preact/hooks";
import { Link, useLocation, useSearchParams } from "wouter-preact";
import { threads } from "../api";
import { THREAD_STATUSES, type JsonObject, type Thread, type ThreadStatus } from "../api/types";
import { ErrorBox, Loading, Section, ShortId, Status, Time } from "../components/common";
import { JsonEditor, objectFrom, parseJson } from "../components/JsonEditor";
import { useAction, useLoad } from "../hooks";

const PAGE_SIZE = 20;

function filterOf(params: URLSearchParams): { status?: ThreadStatus; metadata?: JsonObject; error?: string } {
  const status = THREAD_STATUSES.find((s) => s === params.get("status"));
  const metadata: JsonObject = {};
  const raw = params.get("metadata");
  if (raw) {
    const parsed = parseJson(raw);
    if (parsed.error || !parsed.value || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
      return { status, error: `The metadata filter must be a JSON object${parsed.error ? ` (${parsed.error})` : ""}` };
    }
    Object.assign(metadata, parsed.value);
  }
  const graph = params.get("graph");
  if (graph) metadata.graph_id = graph;
  return { status, metadata: Object.keys(metadata).length ? metadata : undefined };
}

function Row({ thread, onChanged }: { thread: Thread; onChanged: () => void }) {
  const [, navigate] = useLocation();
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const graph = typeof thread.metadata.graph_id === "string" ? thread.metadata.graph_id : null;
  return (
    <tr data-thread={thread.thread_id}>
      <td>
        <Link href={`/threads/${thread.thread_id}`}>
          <ShortId id={thread.thread_id} />
        </Link>
      </td>
      <td>
        <Status status={thread.status} />
      </td>
      <td>{graph ? <code>{graph}</code> : <span class="muted">—</span>}</td>
      <td>
        <code class="clip">{JSON.stringify(thread.metadata)}</code>
      </td>
      <td>
        <Time iso={thread.updated_at} />
      </td>
      <td class="row-actions">
        <button type="button" disabled={action.busy} onClick={() => void action.run(async () => navigate(`/threads/${(await threads.copy(thread.thread_id)).thread_id}`))}>
          Copy
        </button>
        {confirming ? (
          <>
            <button type="button" class="danger" disabled={action.busy} onClick={() => void action.run(async () => (await threads.delete(thread.thread_id), onChanged()))}>
              Yes, delete
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirming(true)}>
            Delete
          </button>
        )}
        <ErrorBox error={action.error} />
      </td>
    </tr>
  );
}

export function ThreadsView() {
  const [params, setParams] = useSearchParams();
  const [, navigate] = useLocation();
  const filter = filterOf(params);
  const pageNumber = Math.max(1, Number(params.get("page")) || 1);
  const key = params.toString();
  const list = useLoad(async () => {
    if (filter.error) throw new Error(filter.error);
    return threads.search({ status: filter.status, metadata: filter.metadata, limit: PAGE_SIZE, offset: (pageNumber - 1) * PAGE_SIZE });
  }, [key]);
  const counts = useLoad(async () => {
    if (filter.error) return null;
    const each = await Promise.all(THREAD_STATUSES.map((status) => threads.count({ status, metadata: filter.metadata })));
    return Object.fromEntries(THREAD_STATUSES.map((s, i) => [s, each[i]])) as Record<ThreadStatus, number>;
  }, [params.get("graph"), params.get("metadata"), list.data]);
  const [metadataText, setMetadataText] = useState(params.get("metadata") ?? "");
  const [graphText, setGraphText] = useState(params.get("graph") ?? "");
  const [newMetadata, setNewMetadata] = useState("");
  const create = useAction();
  const update = (changes: Record<string, string | null>) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      for (const [k, v] of Object.entries(changes)) {
        if (v === null || v === "") next.delete(k);
        else next.set(k, v);
      }
      if (!("page" in changes)) next.delete("page");
      return next;
    });
  const total = list.data?.total ?? null;
  const pages = total === null ? null : Math.max(1, Math.ceil(total / PAGE_SIZE));
  const all = counts.data ? Object.values(counts.data).reduce((a, b) => a + b, 0) : null;
  return (
    <>
      <h1>Threads</h1>
      <div class="counts" aria-label="Thread counts">
        <button type="button" class={!filter.status ? "count active" : "count"} onClick={() => update({ status: null })}>
          all <strong>{all ?? "…"}</strong>
        </button>
        {THREAD_STATUSES.map((status) => (
          <button type="button" class={filter.status === status ? "count active" : "count"} onClick={() => update({ status })} data-status={status}>
            {status} <strong>{counts.data ? counts.data[status] : "…"}</strong>
          </button>
        ))}
      </div>
      <Section title="Search">
        <form
          class="row"
          aria-label="Filter threads"
          onSubmit={(event) => {
            event.preventDefault();
            update({ graph: graphText.trim() || null, metadata: metadataText.trim() || null });
          }}
        >
          <label class="field">
            <span class="field-label">Graph</span>
            <input name="graph" value={graphText} placeholder="any" onInput={(e) => setGraphText((e.target as HTMLInputElement).value)} />
          </label>
          <label class="field grow">
            <span class="field-label">Metadata contains (JSON)</span>
            <input name="metadata" value={metadataText} placeholder='{"user": "ana"}' onInput={(e) => setMetadataText((e.target as HTMLInputElement).value)} />
          </label>
          <div class="actions end">
            <button type="submit" class="primary">
              Search
            </button>
          </div>
        </form>
        <Loading error={list.error} loading={list.loading && !list.data}>
          <table class="table" aria-label="Threads">
            <thead>
              <tr>
                <th>Thread</th>
                <th>Status</th>
                <th>Graph</th>
                <th>Metadata</th>
                <th>Updated</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {(list.data?.items ?? []).map((t) => (
                <Row key={t.thread_id} thread={t} onChanged={list.reload} />
              ))}
            </tbody>
          </table>
          {list.data?.items.length === 0 && <p class="muted">No thread matches.</p>}
          <div class="pager">
            <button type="button" disabled={pageNumber <= 1} onClick={() => update({ page: String(pageNumber - 1) })}>
              ← Newer
            </button>
            <span>
              page {pageNumber}
              {pages !== null ? ` of ${pages} (${total} threads)` : ""}
            </span>
            <button type="button" disabled={pages !== null ? pageNumber >= pages : (list.data?.items.length ?? 0) < PAGE_SIZE} onClick={() => update({ page: String(pageNumber + 1) })}>
              Older →
            </button>
          </div>
        </Loading>
      </Section>
      <Section title="New thread">
        <form
          class="form"
          aria-label="Create a thread"
          onSubmit={(event) => {
            event.preventDefault();
            void create.run(async () => {
              const thread = await threads.create(objectFrom(newMetadata, "metadata", {}) as JsonObject);
              navigate(`/threads/${thread.thread_id}`);
            });
          }}
        >
          <JsonEditor label="Metadata" name="new-metadata" rows={2} value={newMetadata} onInput={setNewMetadata} />
          <ErrorBox error={create.error} />
          <div class="actions">
            <button type="submit" class="primary" disabled={create.busy}>
              Create thread
            </button>
          </div>
        </form>
      </Section>
    </>
  );
}
