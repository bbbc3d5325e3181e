// Threads: a searchable, paginated list (status, graph, metadata), counts by status,
// and create / copy / delete.

import { useState } from "preact/hooks";
import { Link, useLocation, useSearchParams } from "wouter-preact";
import { threads } from "../api";
import { THREAD_STATUSES, type JsonObject, type Thread, type ThreadStatus } from "../api/types";
import { ErrorBox, Loading, Section, ShortId, Status, TableHead, Time } from "../components/common";
import { ConfirmButton, Pager, pageFrom, Submit, TextField } from "../components/forms";
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
        <button
          type="button"
          disabled={action.busy}
          onClick={() =>
            void action.run(async () => navigate(`/threads/${(await threads.copy(thread.thread_id)).thread_id}`))
          }
        >
          Copy
        </button>
        <ConfirmButton
          busy={action.busy}
          onConfirm={() => void action.run(async () => (await threads.delete(thread.thread_id), onChanged()))}
        />
        <ErrorBox error={action.error} />
      </td>
    </tr>
  );
}

export function ThreadsView() {
  const [params, setParams] = useSearchParams();
  const [, navigate] = useLocation();
  const filter = filterOf(params);
  const pageNumber = pageFrom(params);
  const key = params.toString();
  const list = useLoad(async () => {
    if (filter.error) throw new Error(filter.error);
    return threads.search({
      status: filter.status,
      metadata: filter.metadata,
      limit: PAGE_SIZE,
      offset: (pageNumber - 1) * PAGE_SIZE,
    });
  }, [key]);
  const counts = useLoad(async () => {
    if (filter.error) return null;
    const each = await Promise.all(
      THREAD_STATUSES.map((status) => threads.count({ status, metadata: filter.metadata })),
    );
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
        <button
          type="button"
          class={!filter.status ? "count active" : "count"}
          onClick={() => update({ status: null })}
        >
          all <strong>{all ?? "…"}</strong>
        </button>
        {THREAD_STATUSES.map((status) => (
          <button
            type="button"
            class={filter.status === status ? "count active" : "count"}
            onClick={() => update({ status })}
            data-status={status}
          >
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
          <TextField label="Graph" name="graph" value={graphText} placeholder="any" onInput={setGraphText} />
          <TextField
            label="Metadata contains (JSON)"
            name="metadata"
            value={metadataText}
            placeholder='{"user": "ana"}'
            onInput={setMetadataText}
            grow
          />
          <Submit label="Search" end />
        </form>
        <Loading error={list.error} loading={list.loading && !list.data}>
          <table class="table" aria-label="Threads">
            <TableHead columns={["Thread", "Status", "Graph", "Metadata", "Updated", ""]} />
            <tbody>
              {(list.data?.items ?? []).map((t) => (
                <Row key={t.thread_id} thread={t} onChanged={list.reload} />
              ))}
            </tbody>
          </table>
          {list.data?.items.length === 0 && <p class="muted">No thread matches.</p>}
          <Pager
            page={pageNumber}
            labels={["← Newer", "Older →"]}
            summary={pages !== null ? ` of ${pages} (${total} threads)` : undefined}
            hasNext={pages !== null ? pageNumber < pages : (list.data?.items.length ?? 0) === PAGE_SIZE}
            onPage={(page) => update({ page: String(page) })}
          />
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
          <Submit label="Create thread" busy={create.busy} error={create.error} />
        </form>
      </Section>
    </>
  );
}
