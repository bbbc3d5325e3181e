// Run live: pick an assistant and a thread, fill the input (a form generated from the
// graph's input schema, or JSON), and watch the run stream: tokens as they arrive, node
// updates, custom events, subgraphs nested under their parent. Cancel it; answer its
// interrupt and watch it go on.

import { useEffect, useRef, useState } from "preact/hooks";
import { Link, useSearchParams } from "wouter-preact";
import { assistants, runs, threads, type RunRequest, type StreamEvent } from "../api";
import type { Interrupt, Json, JsonObject, Run } from "../api/types";
import { asMessage, Chat, messagesOf, type ChatMessage } from "../components/Chat";
import { ErrorBox, Loading, Section, ShortId, Status, errorText } from "../components/common";
import { JsonEditor, parseJson, pretty } from "../components/JsonEditor";
import { JsonTree } from "../components/JsonTree";
import { formable, SchemaForm } from "../components/SchemaForm";
import { useLoad } from "../hooks";

const STREAM_MODES = ["values", "updates", "messages-tuple", "custom", "debug", "tasks", "checkpoints"];
const DEFAULT_MODES = ["values", "updates", "messages-tuple", "custom"];

interface EventRow {
  seq: number;
  kind: string;
  namespace: string[];
  data: unknown;
}

// The log shows the latest events only: a run can stream hundreds of thousands.
const SHOWN_EVENTS = 400;

interface Live {
  phase: "idle" | "starting" | "streaming" | "cancelling" | "done";
  runId?: string;
  messages: ChatMessage[];
  /** how many events the log holds (the events themselves live in a ref: see RunView) */
  eventCount: number;
  chunks: number;
  values?: Json;
  error?: unknown;
  run?: Run;
  interrupts: Interrupt[];
}

const EMPTY: Live = { phase: "idle", messages: [], eventCount: 0, chunks: 0, interrupts: [] };

function chunkText(content: Json): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((block) =>
        typeof block === "string"
          ? block
          : block && typeof block === "object" && !Array.isArray(block) && typeof block.text === "string"
            ? block.text
            : "",
      )
      .join("");
  }
  return "";
}

/** A messages-tuple event folded into the transcript: a chunk extends its message. */
function addMessageEvent(messages: ChatMessage[], data: unknown): ChatMessage[] {
  const [raw] = Array.isArray(data) ? data : [data];
  const message = asMessage(raw as Json);
  if (!message) return messages;
  const isChunk = typeof (raw as JsonObject).type === "string" && String((raw as JsonObject).type).endsWith("Chunk");
  const index = message.id ? messages.findIndex((m) => m.id === message.id) : -1;
  const next = [...messages];
  if (index >= 0 && isChunk) {
    const current = next[index];
    const text = chunkText(message.content);
    next[index] = {
      ...current,
      chunks: [...(current.chunks ?? []), text],
      content: chunkText(current.content) + text,
      streaming: true,
    };
  } else if (index >= 0) {
    next[index] = { ...message, chunks: next[index].chunks };
  } else {
    next.push(isChunk ? { ...message, chunks: [chunkText(message.content)], streaming: true } : message);
  }
  return next;
}

function namespaceOf(event: string): [string, string[]] {
  const [kind, ...namespace] = event.split("|");
  return [kind, namespace];
}

function EventLog({ events }: { events: EventRow[] }) {
  // consecutive events of one namespace form a block, indented by its depth
  const blocks: { namespace: string[]; rows: EventRow[] }[] = [];
  const hidden = Math.max(0, events.length - SHOWN_EVENTS);
  for (const row of hidden ? events.slice(hidden) : events) {
    const last = blocks[blocks.length - 1];
    if (last && last.namespace.join("|") === row.namespace.join("|")) last.rows.push(row);
    else blocks.push({ namespace: row.namespace, rows: [row] });
  }
  return (
    <div class="event-log" aria-label="Stream events">
      {hidden > 0 && <p class="muted">{hidden} earlier events not shown</p>}
      {blocks.map((block) => (
        <div
          class={block.namespace.length ? "ns-block nested" : "ns-block"}
          data-depth={block.namespace.length}
          style={{ marginLeft: `${block.namespace.length * 18}px` }}
        >
          {block.namespace.length > 0 && (
            <div class="ns-label" title={block.namespace.join(" › ")}>
              subgraph {block.namespace.map((part) => part.split(":")[0]).join(" › ")}
            </div>
          )}
          {block.rows.map((row) => (
            <div class={`event event-${row.kind}`} data-kind={row.kind} key={row.seq}>
              <span class="event-kind">{row.kind}</span>
              {row.kind === "updates" && row.data && typeof row.data === "object" && !Array.isArray(row.data) && (
                <span class="event-nodes">{Object.keys(row.data).join(", ")}</span>
              )}
              <JsonTree value={row.data as Json} open={row.kind === "custom" ? 1 : 0} />
            </div>
          ))}
        </div>
      ))}
    </div>
  );
}

function ResumeForm({
  interrupts,
  onResume,
  busy,
}: {
  interrupts: Interrupt[];
  onResume: (value: Json) => void;
  busy: boolean;
}) {
  const [answers, setAnswers] = useState<string[]>(interrupts.map(() => ""));
  const [asJson, setAsJson] = useState(false);
  const values = answers.map((text) => (asJson ? parseJson(text) : { value: text as Json }));
  const invalid = values.some((v) => v.error !== undefined);
  return (
    <form
      class="interrupt"
      aria-label="Answer the interrupt"
      onSubmit={(event) => {
        event.preventDefault();
        if (invalid) return;
        const parsed = values.map((v) => (v.value === undefined ? null : v.value));
        if (interrupts.length === 1 || interrupts.some((i) => !i.id)) onResume(parsed[0]);
        else onResume(Object.fromEntries(interrupts.map((i, n) => [i.id!, parsed[n]])));
      }}
    >
      <strong>The run is waiting for an answer</strong>
      {interrupts.map((interrupt, n) => (
        <div class="interrupt-one" key={interrupt.id ?? n}>
          <JsonTree value={interrupt.value} open={2} label="Interrupt value" />
          <label class="field">
            <span class="field-label">Answer{interrupts.length > 1 ? ` ${n + 1}` : ""}</span>
            <input
              name={`resume-${n}`}
              value={answers[n]}
              onInput={(e) => setAnswers(answers.map((a, i) => (i === n ? (e.target as HTMLInputElement).value : a)))}
              placeholder={asJson ? '{"approved": true}' : "yes"}
            />
            {values[n].error && <span class="field-error">Not valid JSON: {values[n].error}</span>}
          </label>
        </div>
      ))}
      <label class="toggle">
        <input type="checkbox" checked={asJson} onChange={(e) => setAsJson((e.target as HTMLInputElement).checked)} />{" "}
        The answer is JSON
      </label>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || invalid}>
          Resume
        </button>
      </div>
    </form>
  );
}

export function RunView() {
  const [params, setParams] = useSearchParams();
  const list = useLoad(() => assistants.search({ limit: 200 }), []);
  const assistantId = params.get("assistant") ?? list.data?.[0]?.assistant_id ?? "";
  const threadId = params.get("thread");
  const checkpointId = params.get("checkpoint");
  const assistant = list.data?.find((a) => a.assistant_id === assistantId || a.graph_id === assistantId);
  const schemas = useLoad(
    async () => (assistant ? assistants.schemas(assistant.assistant_id) : null),
    [assistant?.assistant_id],
  );
  const waiting = useLoad(async () => (threadId ? threads.get(threadId) : null), [threadId]);
  const inputSchema = schemas.data?.input_schema;
  const [mode, setMode] = useState<"form" | "json">("form");
  const [formValue, setFormValue] = useState<JsonObject>({});
  const [jsonText, setJsonText] = useState("");
  const [streamModes, setStreamModes] = useState<string[]>(DEFAULT_MODES);
  const [subgraphs, setSubgraphs] = useState(true);
  const [live, setLive] = useState<Live>(EMPTY);
  // The event log grows in place: a run can stream hundreds of thousands of events, and
  // copying the log for each would be quadratic. `live.eventCount` tells Preact to render.
  const events = useRef<EventRow[]>([]);
  const abort = useRef<AbortController | null>(null);
  const seq = useRef(0);
  const formMode = mode === "form" && formable(inputSchema);
  const fresh = (changes: Partial<Live> = {}): Live => {
    events.current = [];
    return { ...EMPTY, ...changes };
  };
  const log = (row: Omit<EventRow, "seq">) => events.current.push({ ...row, seq: seq.current++ });

  useEffect(() => () => abort.current?.abort(), []);
  useEffect(() => {
    // another graph takes other input: start its form empty
    setFormValue({});
    setJsonText("");
  }, [assistant?.assistant_id]);
  useEffect(() => {
    // a thread that already waits on an interrupt: offer the answer form straight away
    const t = waiting.data;
    if (t && t.status === "interrupted" && live.phase === "idle") {
      setLive(fresh({ phase: "done", interrupts: Object.values(t.interrupts ?? {}).flat() }));
    }
  }, [waiting.data]);

  const setParam = (changes: Record<string, string | null>) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes)) v === null ? next.delete(k) : next.set(k, v);
        return next;
      },
      { replace: true },
    );

  async function stream(target: string, body: RunRequest, sent: ChatMessage[]) {
    const controller = new AbortController();
    abort.current = controller;
    setLive((l) => ({
      ...l,
      phase: "streaming",
      error: undefined,
      interrupts: [],
      run: undefined,
      messages: [...l.messages, ...sent],
    }));
    let runId: string | undefined;
    try {
      for await (const event of runs.stream(target, body, controller.signal)) {
        const data = event.data as JsonObject | null;
        if (event.event === "metadata" && data && typeof data.run_id === "string") runId = data.run_id;
        handle(event);
      }
    } catch (error) {
      if ((error as Error).name !== "AbortError") setLive((l) => ({ ...l, error }));
    }
    // how it ended: the run's status, and the thread's interrupts if it waits on one
    try {
      const [thread, run] = await Promise.all([
        threads.get(target),
        runId ? runs.get(target, runId) : Promise.resolve(undefined),
      ]);
      setLive((l) => ({
        ...l,
        phase: "done",
        run,
        messages: l.messages.map((m) => (m.streaming ? { ...m, streaming: false } : m)),
        interrupts: thread.status === "interrupted" ? Object.values(thread.interrupts ?? {}).flat() : [],
      }));
    } catch (error) {
      setLive((l) => ({ ...l, phase: "done", error: l.error ?? error }));
    }
  }

  function handle(event: StreamEvent) {
    const [kind, namespace] = namespaceOf(event.event);
    const data = event.data as Json;
    if (kind !== "metadata" && !kind.startsWith("messages")) log({ kind, namespace, data });
    setLive((l) => {
      if (
        kind === "metadata" &&
        data &&
        typeof data === "object" &&
        !Array.isArray(data) &&
        typeof data.run_id === "string"
      ) {
        return { ...l, runId: data.run_id };
      }
      if (kind === "messages") return { ...l, messages: addMessageEvent(l.messages, data), chunks: l.chunks + 1 };
      if (kind === "messages/partial" || kind === "messages/complete" || kind === "messages/metadata") return l;
      const next = { ...l, eventCount: events.current.length };
      if (kind === "values" && namespace.length === 0) next.values = data;
      if (kind === "error")
        next.error = new Error(
          typeof data === "object" && data && !Array.isArray(data)
            ? String(data.message ?? data.error ?? pretty(data))
            : String(data),
        );
      return next;
    });
  }

  async function start() {
    if (!assistant) return;
    let input: Json | undefined;
    if (formMode) input = Object.keys(formValue).length ? formValue : checkpointId ? null : {};
    else {
      const parsed = parseJson(jsonText);
      if (parsed.error)
        return setLive(fresh({ phase: "done", error: new Error(`Input: not valid JSON: ${parsed.error}`) }));
      input = parsed.value ?? (checkpointId ? null : {});
    }
    setLive(fresh({ phase: "starting" }));
    let target = threadId;
    let prior: ChatMessage[] = [];
    try {
      if (!target) {
        target = (await threads.create({})).thread_id;
        setParam({ thread: target });
      } else {
        // the conversation so far (as of the fork point, when forking), above the new turn
        const values = checkpointId
          ? (await threads.state(target, checkpointId)).values
          : (await threads.get(target)).values;
        prior = messagesOf(values) ?? [];
      }
    } catch (error) {
      return setLive(fresh({ phase: "done", error }));
    }
    setLive(fresh({ phase: "starting", messages: prior }));
    if (formMode && "messages" in formValue) {
      const { messages: _sent, ...rest } = formValue;
      setFormValue(rest);
    }
    const sent =
      input && typeof input === "object" && !Array.isArray(input) && Array.isArray(input.messages)
        ? (input.messages.map(asMessage).filter(Boolean) as ChatMessage[])
        : [];
    await stream(
      target,
      {
        assistant_id: assistant.assistant_id,
        input,
        checkpoint_id: checkpointId ?? undefined,
        stream_mode: streamModes,
        stream_subgraphs: subgraphs,
      },
      sent,
    );
  }

  async function resume(value: Json) {
    if (!threadId || !assistant) return;
    log({ kind: "resume", namespace: [], data: value });
    setLive((l) => ({ ...l, eventCount: events.current.length }));
    await stream(
      threadId,
      {
        assistant_id: assistant.assistant_id,
        command: { resume: value },
        stream_mode: streamModes,
        stream_subgraphs: subgraphs,
      },
      [],
    );
  }

  async function cancel() {
    if (!threadId || !live.runId) return abort.current?.abort();
    setLive((l) => ({ ...l, phase: "cancelling" }));
    try {
      await runs.cancel(threadId, live.runId);
    } catch (error) {
      setLive((l) => ({ ...l, error }));
      abort.current?.abort();
    }
  }

  const running = live.phase === "starting" || live.phase === "streaming" || live.phase === "cancelling";
  return (
    <>
      <h1>Run</h1>
      <Loading error={list.error} loading={!list.data}>
        <Section title="Start a run">
          <form
            class="form"
            aria-label="Start a run"
            onSubmit={(event) => {
              event.preventDefault();
              void start();
            }}
          >
            <div class="row">
              <label class="field">
                <span class="field-label">Assistant</span>
                <select
                  name="assistant"
                  value={assistant?.assistant_id ?? ""}
                  onChange={(e) => setParam({ assistant: (e.target as HTMLSelectElement).value })}
                >
                  {(list.data ?? []).map((a) => (
                    <option value={a.assistant_id}>
                      {a.name} ({a.graph_id})
                    </option>
                  ))}
                </select>
              </label>
              <div class="field">
                <span class="field-label">Thread</span>
                <span class="field-value">
                  {threadId ? (
                    <>
                      <Link href={`/threads/${threadId}`}>
                        <ShortId id={threadId} />
                      </Link>{" "}
                      <button type="button" class="link" onClick={() => setParam({ thread: null, checkpoint: null })}>
                        use a new thread
                      </button>
                    </>
                  ) : (
                    "a new thread, made when the run starts"
                  )}
                </span>
              </div>
              {checkpointId && (
                <div class="field">
                  <span class="field-label">Fork from checkpoint</span>
                  <span class="field-value">
                    <ShortId id={checkpointId} />{" "}
                    <button type="button" class="link" onClick={() => setParam({ checkpoint: null })}>
                      from the latest instead
                    </button>
                  </span>
                </div>
              )}
            </div>
            <div class="tabs" role="tablist">
              <button
                type="button"
                role="tab"
                aria-selected={formMode}
                class={formMode ? "tab active" : "tab"}
                disabled={!formable(inputSchema)}
                onClick={() => {
                  const parsed = parseJson(jsonText);
                  if (!parsed.error && parsed.value && typeof parsed.value === "object" && !Array.isArray(parsed.value))
                    setFormValue(parsed.value);
                  setMode("form");
                }}
              >
                Form
              </button>
              <button
                type="button"
                role="tab"
                aria-selected={!formMode}
                class={!formMode ? "tab active" : "tab"}
                onClick={() => {
                  if (formMode) setJsonText(pretty(formValue));
                  setMode("json");
                }}
              >
                JSON
              </button>
            </div>
            {formMode && inputSchema ? (
              <SchemaForm
                key={assistant?.assistant_id}
                schema={inputSchema}
                value={formValue}
                onChange={setFormValue}
              />
            ) : (
              <JsonEditor label="Input" name="input" rows={8} value={jsonText} onInput={setJsonText} />
            )}
            <details class="options">
              <summary>
                Stream options: {streamModes.join(", ")}
                {subgraphs ? ", subgraphs" : ""}
              </summary>
              <div class="row">
                {STREAM_MODES.map((m) => (
                  <label class="toggle">
                    <input
                      type="checkbox"
                      checked={streamModes.includes(m)}
                      onChange={(e) =>
                        setStreamModes(
                          (e.target as HTMLInputElement).checked
                            ? [...streamModes, m]
                            : streamModes.filter((x) => x !== m),
                        )
                      }
                    />{" "}
                    {m}
                  </label>
                ))}
                <label class="toggle">
                  <input
                    type="checkbox"
                    checked={subgraphs}
                    onChange={(e) => setSubgraphs((e.target as HTMLInputElement).checked)}
                  />{" "}
                  stream subgraphs
                </label>
              </div>
            </details>
            <div class="actions">
              <button type="submit" class="primary" disabled={running || !assistant}>
                {checkpointId ? "Run from this checkpoint" : "Start run"}
              </button>
              {running && (
                <button
                  type="button"
                  class="danger"
                  onClick={() => void cancel()}
                  disabled={live.phase === "cancelling"}
                >
                  {live.phase === "cancelling" ? "Cancelling…" : "Cancel run"}
                </button>
              )}
            </div>
          </form>
        </Section>
        {live.phase !== "idle" && (
          <Section
            title="Live"
            id="live"
            actions={
              <span class="run-state" data-phase={live.phase}>
                {live.runId && (
                  <>
                    run <ShortId id={live.runId} />{" "}
                  </>
                )}
                {live.run ? (
                  <Status status={live.run.status} />
                ) : (
                  <span class="status status-running">{live.phase}</span>
                )}
                {live.interrupts.length > 0 && !running && (
                  <>
                    {" "}
                    <span class="status status-interrupted">waiting for an answer</span>
                  </>
                )}
                {threadId && live.phase === "done" && (
                  <>
                    {" "}
                    <Link href={`/threads/${threadId}`}>open the thread</Link>
                  </>
                )}
              </span>
            }
          >
            {live.error !== undefined && (
              <div class="error" role="alert">
                {errorText(live.error)}
              </div>
            )}
            {live.interrupts.length > 0 && (
              <ResumeForm
                key={live.interrupts.map((i) => i.id).join()}
                interrupts={live.interrupts}
                onResume={(v) => void resume(v)}
                busy={running}
              />
            )}
            <div class="columns">
              <div class="column-main">
                {(live.messages.length > 0 || live.chunks > 0) && (
                  <>
                    <h3>Transcript {live.chunks > 0 && <span class="muted">({live.chunks} token chunks)</span>}</h3>
                    <Chat messages={live.messages} />
                  </>
                )}
                {live.values !== undefined && (
                  <>
                    <h3>State</h3>
                    <JsonTree value={live.values} open={1} label="Run state" />
                  </>
                )}
              </div>
              <div class="column-side">
                <h3>Events</h3>
                <EventLog events={events.current} />
              </div>
            </div>
          </Section>
        )}
      </Loading>
      {waiting.error !== undefined && <ErrorBox error={waiting.error} />}
    </>
  );
}
