// Graphs and assistants: every assistant, and one assistant's graph (drawn), schemas,
// versions, and edits (each edit is a new version; any version can be made the latest).

import { useState } from "preact/hooks";
import { Link, useLocation, useSearchParams } from "wouter-preact";
import { assistants, info } from "../api";
import type { Assistant, JsonObject } from "../api/types";
import { ErrorBox, Loading, Section, ShortId, TableHead, Time } from "../components/common";
import { Submit, TextField } from "../components/forms";
import { GraphView } from "../components/GraphView";
import { JsonEditor, objectFrom, pretty } from "../components/JsonEditor";
import { SchemaView } from "../components/SchemaView";
import { useAction, useLoad } from "../hooks";

/** What a person types for an assistant: its name and description, and JSON for the rest. */
interface Draft {
  name: string;
  description: string;
  config: string;
  context: string;
  metadata: string;
}

const blankDraft: Draft = { name: "", description: "", config: "", context: "", metadata: "" };

function draftOf(a: Assistant): Draft {
  return {
    name: a.name,
    description: a.description ?? "",
    config: pretty(a.config),
    context: pretty(a.context),
    metadata: pretty(a.metadata),
  };
}

/** The request body a draft stands for; throws, naming the field, on JSON that is not an object. */
function bodyOf(draft: Draft) {
  const object = (text: string, field: string) => objectFrom(text, field, undefined) as JsonObject | undefined;
  return {
    name: draft.name || undefined,
    description: draft.description || undefined,
    config: object(draft.config, "config"),
    context: object(draft.context, "context"),
    metadata: object(draft.metadata, "metadata"),
  };
}

function DraftFields({
  draft,
  onChange,
  rows,
  namePlaceholder,
}: {
  draft: Draft;
  onChange: (draft: Draft) => void;
  rows: number;
  namePlaceholder?: string;
}) {
  const set = (key: keyof Draft) => (text: string) => onChange({ ...draft, [key]: text });
  return (
    <>
      <div class="row">
        <TextField
          label="Name"
          name="name"
          value={draft.name}
          placeholder={namePlaceholder}
          onInput={set("name")}
          grow
        />
        <TextField label="Description" name="description" value={draft.description} onInput={set("description")} grow />
      </div>
      <div class="row">
        <JsonEditor label="Config" name="config" rows={rows} value={draft.config} onInput={set("config")} />
        <JsonEditor label="Context" name="context" rows={rows} value={draft.context} onInput={set("context")} />
        <JsonEditor label="Metadata" name="metadata" rows={rows} value={draft.metadata} onInput={set("metadata")} />
      </div>
    </>
  );
}

function CreateAssistant({ graphs }: { graphs: string[] }) {
  const [, navigate] = useLocation();
  const [graph, setGraph] = useState(graphs[0] ?? "");
  const [draft, setDraft] = useState(blankDraft);
  const action = useAction();
  return (
    <form
      class="form"
      aria-label="Create an assistant"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(async () => {
          const created = await assistants.create({ graph_id: graph, ...bodyOf(draft) });
          navigate(`/assistants/${created.assistant_id}`);
        });
      }}
    >
      <label class="field">
        <span class="field-label">Graph</span>
        <select name="graph_id" value={graph} onChange={(e) => setGraph((e.target as HTMLSelectElement).value)}>
          {graphs.map((g) => (
            <option value={g}>{g}</option>
          ))}
        </select>
      </label>
      <DraftFields draft={draft} onChange={setDraft} rows={3} namePlaceholder="(the graph's name)" />
      <Submit label="Create assistant" busy={action.busy} error={action.error} disabled={!graph} />
    </form>
  );
}

export function AssistantsView() {
  const list = useLoad(() => assistants.search({ limit: 200 }), []);
  const server = useLoad(info, []);
  const graphs = server.data?.graphdock?.graphs ?? [...new Set((list.data ?? []).map((a) => a.graph_id))];
  return (
    <>
      <h1>Graphs and assistants</h1>
      <Section title="Assistants">
        <Loading error={list.error} loading={list.loading && !list.data}>
          <table class="table">
            <TableHead columns={["Name", "Graph", "Version", "Description", "Updated"]} />
            <tbody>
              {(list.data ?? []).map((a) => (
                <tr key={a.assistant_id}>
                  <td>
                    <Link href={`/assistants/${a.assistant_id}`}>{a.name}</Link>
                  </td>
                  <td>
                    <code>{a.graph_id}</code>
                  </td>
                  <td>{a.version}</td>
                  <td class="muted">{a.description ?? ""}</td>
                  <td>
                    <Time iso={a.updated_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Loading>
      </Section>
      {graphs.length > 0 && (
        <Section title="New assistant">
          <CreateAssistant graphs={graphs} />
        </Section>
      )}
    </>
  );
}

const SCHEMAS = ["input", "output", "state", "config", "context"] as const;

function EditAssistant({ assistant, onSaved }: { assistant: Assistant; onSaved: () => void }) {
  const [draft, setDraft] = useState(() => draftOf(assistant));
  const action = useAction();
  return (
    <form
      class="form"
      aria-label="Edit the assistant"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(async () => {
          // an emptied JSON field clears it; an emptied name or description keeps the old one
          const { config = {}, context = {}, metadata = {}, ...names } = bodyOf(draft);
          await assistants.update(assistant.assistant_id, { ...names, config, context, metadata });
          onSaved();
        });
      }}
    >
      <DraftFields draft={draft} onChange={setDraft} rows={5} />
      <Submit label="Save as a new version" busy={action.busy} error={action.error} />
    </form>
  );
}

export function AssistantView({ id }: { id: string }) {
  const [params, setParams] = useSearchParams();
  const xray = params.get("xray") === "1";
  const schemaTab = (SCHEMAS as readonly string[]).includes(params.get("schema") ?? "")
    ? (params.get("schema") as (typeof SCHEMAS)[number])
    : "input";
  const assistant = useLoad(() => assistants.get(id), [id]);
  const graph = useLoad(() => assistants.graph(id, xray), [id, xray]);
  const schemas = useLoad(() => assistants.schemas(id), [id]);
  const versions = useLoad(() => assistants.versions(id), [id]);
  const setLatest = useAction();
  const set = (key: string, value: string | null) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value === null) next.delete(key);
        else next.set(key, value);
        return next;
      },
      { replace: true },
    );
  const a = assistant.data;
  const reloadAll = () => {
    assistant.reload();
    versions.reload();
  };
  return (
    <Loading error={assistant.error} loading={!a}>
      {a && (
        <>
          <div class="page-head">
            <div>
              <h1>{a.name}</h1>
              <p class="muted">
                graph <code>{a.graph_id}</code> · version {a.version} · <ShortId id={a.assistant_id} />
                {a.description ? ` · ${a.description}` : ""}
              </p>
            </div>
            <div class="actions">
              <Link class="button primary" href={`/run?assistant=${a.assistant_id}`}>
                Run it
              </Link>
              <Link class="button" href={`/threads?graph=${encodeURIComponent(a.graph_id)}`}>
                Its threads
              </Link>
            </div>
          </div>
          <Section
            title="Graph"
            id="graph"
            actions={
              <label class="toggle">
                <input
                  type="checkbox"
                  name="xray"
                  checked={xray}
                  onChange={(e) => set("xray", (e.target as HTMLInputElement).checked ? "1" : null)}
                />{" "}
                Show subgraphs (xray)
              </label>
            }
          >
            <Loading error={graph.error} loading={!graph.data}>
              {graph.data && <GraphView graph={graph.data} title={`The ${a.graph_id} graph`} />}
            </Loading>
          </Section>
          <Section title="Schemas" id="schemas">
            <div class="tabs" role="tablist">
              {SCHEMAS.map((name) => (
                <button
                  type="button"
                  role="tab"
                  aria-selected={schemaTab === name}
                  class={schemaTab === name ? "tab active" : "tab"}
                  onClick={() => set("schema", name)}
                >
                  {name}
                </button>
              ))}
            </div>
            <Loading error={schemas.error} loading={!schemas.data}>
              {schemas.data &&
                (schemas.data[`${schemaTab}_schema`] ? (
                  <SchemaView schema={schemas.data[`${schemaTab}_schema`]!} label={`${schemaTab} schema`} />
                ) : (
                  <p class="muted">This graph declares no {schemaTab} schema.</p>
                ))}
            </Loading>
          </Section>
          <Section title="Versions" id="versions">
            <ErrorBox error={setLatest.error} />
            <Loading error={versions.error} loading={!versions.data}>
              <table class="table">
                <TableHead columns={["Version", "Name", "Config", "Created", ""]} />
                <tbody>
                  {(versions.data ?? []).map((v) => (
                    <tr key={v.version} data-version={v.version}>
                      <td>{v.version}</td>
                      <td>{v.name}</td>
                      <td>
                        <code class="clip">{JSON.stringify(v.config)}</code>
                      </td>
                      <td>
                        <Time iso={v.created_at} />
                      </td>
                      <td>
                        {v.version === a.version ? (
                          <span class="badge">latest</span>
                        ) : (
                          <button
                            type="button"
                            disabled={setLatest.busy}
                            onClick={() =>
                              void setLatest.run(
                                async () => (await assistants.setLatest(a.assistant_id, v.version), reloadAll()),
                              )
                            }
                          >
                            Make latest
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Loading>
          </Section>
          <Section title="Edit" id="edit">
            <EditAssistant key={`${a.assistant_id}:${a.version}`} assistant={a} onSaved={reloadAll} />
          </Section>
        </>
      )}
    </Loading>
  );
}
