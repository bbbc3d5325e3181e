// One thread: its conversation as chat, its raw state, its runs, and its history as a
// timeline of checkpoints. Picking a checkpoint shows the state as it was then; from there a
// run can fork ("run from here") and the state can be edited (update_state).

import { useState } from "preact/hooks";
import { Link, useLocation, useSearchParams } from "wouter-preact";
import { threads } from "../api";
import type { Json, ThreadState } from "../api/types";
import { Chat, messagesOf } from "../components/Chat";
import { ErrorBox, Loading, Section, ShortId, Status, TableHead, Time } from "../components/common";
import { JsonEditor, parseJson, pretty } from "../components/JsonEditor";
import { JsonTree } from "../components/JsonTree";
import { useAction, useLoad } from "../hooks";

/** What produced a checkpoint: the node(s) its parent was about to run, or the input. */
function producedBy(state: ThreadState, byId: Map<string, ThreadState>): string {
  const source = state.metadata.source;
  if (source === "input") return "input";
  if (source === "update") return "state edited";
  if (source === "fork") return "fork";
  const parent = state.parent_checkpoint ? byId.get(state.parent_checkpoint.checkpoint_id) : undefined;
  if (!parent) return "start";
  const names = parent.tasks.length ? parent.tasks.map((t) => t.name) : parent.next;
  return names.join(", ") || "start";
}

function Timeline({
  history,
  selected,
  onSelect,
}: {
  history: ThreadState[];
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const byId = new Map(history.map((s) => [s.checkpoint?.checkpoint_id ?? "", s]));
  return (
    <ol class="timeline" aria-label="History">
      {history.map((state, i) => {
        const id = state.checkpoint?.checkpoint_id ?? "";
        const interrupted = state.tasks.some((t) => t.interrupts.length > 0);
        return (
          <li key={id} class={id === selected ? "selected" : ""}>
            <button
              type="button"
              class="timeline-item"
              data-checkpoint={id}
              data-step={state.metadata.step}
              aria-current={id === selected}
              onClick={() => onSelect(id)}
            >
              <span class="timeline-line">
                <span class="step">step {String(state.metadata.step ?? "?")}</span>
                <span class="node">{producedBy(state, byId)}</span>
                {interrupted && <span class="badge warn">interrupt</span>}
                {i === 0 && <span class="badge">latest</span>}
              </span>
              {state.next.length > 0 && <span class="next">next: {state.next.join(", ")}</span>}
              <span class="when">
                <Time iso={state.created_at} />
              </span>
            </button>
          </li>
        );
      })}
    </ol>
  );
}

function EditState({
  threadId,
  state,
  latest,
  onSaved,
}: {
  threadId: string;
  state: ThreadState;
  latest: boolean;
  onSaved: (checkpointId: string) => void;
}) {
  const [text, setText] = useState(pretty(state.values));
  const [asNode, setAsNode] = useState("");
  const action = useAction();
  return (
    <form
      class="form"
      aria-label="Edit state"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(async () => {
          const parsed = parseJson(text);
          if (parsed.error) throw new Error(`values: not valid JSON: ${parsed.error}`);
          const result = await threads.updateState(threadId, {
            values: (parsed.value ?? null) as Json,
            checkpoint_id: latest ? undefined : state.checkpoint?.checkpoint_id,
            as_node: asNode || undefined,
          });
          onSaved(result.checkpoint.checkpoint_id);
        });
      }}
    >
      <JsonEditor label="Values" name="values" rows={10} value={text} onInput={setText} />
      <p class="field-help">
        The values go through the graph's reducers, as a node's return value would: a key with an appending reducer gets
        these items added.
      </p>
      <label class="field">
        <span class="field-label">As node (optional)</span>
        <input name="as_node" value={asNode} onInput={(e) => setAsNode((e.target as HTMLInputElement).value)} />
      </label>
      <ErrorBox error={action.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={action.busy}>
          {latest ? "Update state" : "Update state from this checkpoint"}
        </button>
      </div>
    </form>
  );
}

export function ThreadView({ id }: { id: string }) {
  const [params, setParams] = useSearchParams();
  const [, navigate] = useLocation();
  const thread = useLoad(() => threads.get(id), [id]);
  const history = useLoad(() => threads.history(id), [id]);
  const runList = useLoad(() => threads.runs(id), [id]);
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const action = useAction();
  const wanted = params.get("checkpoint");
  const states = history.data ?? [];
  const fromHistory = wanted ? states.find((s) => s.checkpoint?.checkpoint_id === wanted) : states[0];
  // a checkpoint older than the loaded history (a pasted link): ask for it by id
  const direct = useLoad(
    async () => (wanted && history.data && !fromHistory ? threads.state(id, wanted) : null),
    [id, wanted, history.data],
  );
  const selected = fromHistory ?? direct.data ?? undefined;
  const selectedId = selected?.checkpoint?.checkpoint_id ?? null;
  const latest = !!selected && selectedId === states[0]?.checkpoint?.checkpoint_id;
  const select = (checkpointId: string | null) => {
    setEditing(false);
    setParams(checkpointId ? { checkpoint: checkpointId } : {}, { replace: false });
  };
  const t = thread.data;
  const graphId = typeof t?.metadata.graph_id === "string" ? t.metadata.graph_id : undefined;
  const assistantId = typeof t?.metadata.assistant_id === "string" ? t.metadata.assistant_id : graphId;
  const runHref = (checkpoint?: string) =>
    `/run?thread=${id}${assistantId ? `&assistant=${encodeURIComponent(assistantId)}` : ""}${checkpoint ? `&checkpoint=${checkpoint}` : ""}`;
  const messages = selected ? messagesOf(selected.values) : null;
  return (
    <Loading error={thread.error} loading={!t}>
      {t && (
        <>
          <div class="page-head">
            <div>
              <h1>
                Thread <ShortId id={t.thread_id} />
              </h1>
              <p class="muted">
                <Status status={t.status} />{" "}
                {graphId && (
                  <>
                    · graph <code>{graphId}</code>{" "}
                  </>
                )}
                · created <Time iso={t.created_at} /> · updated <Time iso={t.updated_at} />
              </p>
            </div>
            <div class="actions">
              <Link class="button primary" href={runHref()}>
                Run on this thread
              </Link>
              <button
                type="button"
                disabled={action.busy}
                onClick={() => void action.run(async () => navigate(`/threads/${(await threads.copy(id)).thread_id}`))}
              >
                Copy
              </button>
              {confirmDelete ? (
                <button
                  type="button"
                  class="danger"
                  onClick={() => void action.run(async () => (await threads.delete(id), navigate("/threads")))}
                >
                  Yes, delete it
                </button>
              ) : (
                <button type="button" onClick={() => setConfirmDelete(true)}>
                  Delete
                </button>
              )}
            </div>
          </div>
          <ErrorBox error={action.error} />
          <div class="columns">
            <div class="column-main">
              <Section
                title={selected && !latest ? `State at step ${String(selected.metadata.step ?? "?")}` : "State"}
                id="state"
                actions={
                  selected && (
                    <>
                      {!latest && (
                        <button type="button" onClick={() => select(null)}>
                          Back to latest
                        </button>
                      )}
                      <Link class="button primary" href={runHref(selectedId ?? undefined)}>
                        Run from here
                      </Link>
                      <button type="button" onClick={() => setEditing(!editing)} aria-pressed={editing}>
                        Edit state
                      </button>
                    </>
                  )
                }
              >
                <Loading error={history.error ?? direct.error} loading={!history.data}>
                  {selected ? (
                    <>
                      {selectedId && (
                        <p class="muted">
                          checkpoint <ShortId id={selectedId} /> · <Time iso={selected.created_at} />
                          {selected.next.length > 0 && <> · next: {selected.next.join(", ")}</>}
                        </p>
                      )}
                      {editing && (
                        <EditState
                          key={selectedId}
                          threadId={id}
                          state={selected}
                          latest={latest}
                          onSaved={(checkpointId) => {
                            setEditing(false);
                            thread.reload();
                            history.reload();
                            select(checkpointId);
                          }}
                        />
                      )}
                      {selected.tasks.some((task) => task.interrupts.length > 0) && (
                        <div class="interrupt">
                          <strong>Waiting for an answer</strong>
                          {selected.tasks
                            .flatMap((task) => task.interrupts)
                            .map((interrupt) => (
                              <JsonTree value={interrupt.value} open={2} />
                            ))}
                          {latest && (
                            <Link class="button primary" href={runHref()}>
                              Answer it
                            </Link>
                          )}
                        </div>
                      )}
                      <div class={messages ? "state-split" : ""}>
                        {messages && (
                          <div class="state-chat">
                            <h3>Conversation</h3>
                            <Chat messages={messages} />
                          </div>
                        )}
                        <div class="state-raw">
                          <h3>Raw state</h3>
                          <JsonTree value={selected.values} open={messages ? 1 : 2} label="State values" />
                        </div>
                      </div>
                    </>
                  ) : (
                    <p class="muted">This thread has no state yet: run a graph on it.</p>
                  )}
                </Loading>
              </Section>
              <Section title="Runs" id="runs">
                <Loading error={runList.error} loading={!runList.data}>
                  {runList.data?.length ? (
                    <table class="table">
                      <TableHead columns={["Run", "Status", "Created", "Updated"]} />
                      <tbody>
                        {runList.data.map((run) => (
                          <tr key={run.run_id} data-run={run.run_id}>
                            <td>
                              <ShortId id={run.run_id} />
                            </td>
                            <td>
                              <Status status={run.status} />
                            </td>
                            <td>
                              <Time iso={run.created_at} />
                            </td>
                            <td>
                              <Time iso={run.updated_at} />
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  ) : (
                    <p class="muted">No runs yet.</p>
                  )}
                </Loading>
              </Section>
            </div>
            <div class="column-side">
              <Section title="History" id="history">
                <Loading error={history.error} loading={!history.data}>
                  {states.length ? (
                    <Timeline history={states} selected={selectedId} onSelect={select} />
                  ) : (
                    <p class="muted">No checkpoints yet.</p>
                  )}
                </Loading>
              </Section>
            </div>
          </div>
        </>
      )}
    </Loading>
  );
}
