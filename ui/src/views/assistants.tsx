// Graphs and assistants: every assistant, and one assistant's graph (drawn), schemas,
// versions, and edits (each edit is a new version; any version can be made the latest).

import { useState } from "preact/hooks";
import { Link, useLocation, useSearchParams } from "wouter-preact";
import { assistants, info } from "../api";
import type { Assistant, JsonObject } from "../api/types";
import { ErrorBox, Loading, Section, ShortId, Time } from "../components/common";
import { GraphView } from "../components/GraphView";
import { JsonEditor, objectFrom, pretty } from "../components/JsonEditor";
import { JsonTree } from "../components/JsonTree";
import { useAction, useLoad } from "../hooks";

function CreateAssistant({ graphs }: { graphs: string[] }) {
  const [, navigate] = useLocation();
  const [graph, setGraph] = useState(graphs[0] ?? "");
  const [name, setName] = useState("");
  const [config, setConfig] = useState("");
  const [context, setContext] = useState("");
  const [metadata, setMetadata] = useState("");
  const action = useAction();
  return (
    <form
      class="form"
      aria-label="Create an assistant"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(async () => {
          const created = await assistants.create({
            graph_id: graph,
            name: name || undefined,
            config: objectFrom(config, "config", undefined) as JsonObject | undefined,
            context: objectFrom(context, "context", undefined) as JsonObject | undefined,
            metadata: objectFrom(metadata, "metadata", undefined) as JsonObject | undefined,
          });
          navigate(`/assistants/${created.assistant_id}`);
        });
      }}
    >
      <div class="row">
        <label class="field">
          <span class="field-label">Graph</span>
          <select name="graph_id" value={graph} onChange={(e) => setGraph((e.target as HTMLSelectElement).value)}>
            {graphs.map((g) => (
              <option value={g}>{g}</option>
            ))}
          </select>
        </label>
        <label class="field grow">
          <span class="field-label">Name</span>
          <input name="name" value={name} placeholder="(the graph's name)" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <div class="row">
        <JsonEditor label="Config" name="config" rows={3} value={config} onInput={setConfig} />
        <JsonEditor label="Context" name="context" rows={3} value={context} onInput={setContext} />
        <JsonEditor label="Metadata" name="metadata" rows={3} value={metadata} onInput={setMetadata} />
      </div>
      <ErrorBox error={action.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={action.busy || !graph}>
          Create assistant
        </button>
      </div>
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
            <thead>
              <tr>
                <th>Name</th>
                <th>Graph</th>
                <th>Version</th>
                <th>Description</th>
                <th>Updated</th>
              </tr>
            </thead>
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
  const [name, setName] = useState(assistant.name);
  const [description, setDescription] = useState(assistant.description ?? "");
  const [config, setConfig] = useState(pretty(assistant.config));
  const [context, setContext] = useState(pretty(assistant.context));
  const [metadata, setMetadata] = useState(pretty(assistant.metadata));
  const action = useAction();
  return (
    <form
      class="form"
      aria-label="Edit the assistant"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(async () => {
          await assistants.update(assistant.assistant_id, {
            name,
            description,
            config: objectFrom(config, "config", {}) as JsonObject,
            context: objectFrom(context, "context", {}) as JsonObject,
            metadata: objectFrom(metadata, "metadata", {}) as JsonObject,
          });
          onSaved();
        });
      }}
    >
      <div class="row">
        <label class="field grow">
          <span class="field-label">Name</span>
          <input name="name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field grow">
          <span class="field-label">Description</span>
          <input name="description" value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <div class="row">
        <JsonEditor label="Config" name="config" rows={5} value={config} onInput={setConfig} />
        <JsonEditor label="Context" name="context" rows={5} value={context} onInput={setContext} />
        <JsonEditor label="Metadata" name="metadata" rows={5} value={metadata} onInput={setMetadata} />
      </div>
      <ErrorBox error={action.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={action.busy}>
          Save as a new version
        </button>
      </div>
    </form>
  );
}

export function AssistantView({ id }: { id: string }) {
  const [params, setParams] = useSearchParams();
  const xray = params.get("xray") === "1";
  const schemaTab = (SCHEMAS as readonly string[]).includes(params.get("schema") ?? "") ? (params.get("schema") as (typeof SCHEMAS)[number]) : "input";
  const assistant = useLoad(() => assistants.get(id), [id]);
  const graph = useLoad(() => assistants.graph(id, xray), [id, xray]);
  const schemas = useLoad(() => assistants.schemas(id), [id]);
  const versions = useLoad(() => assistants.versions(id), [id]);
  const setLatest = useAction();
  const set = (key: string, value: string | null) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      if (value === null) next.delete(key);
      else next.set(key, value);
      return next;
    }, { replace: true });
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
                <input type="checkbox" name="xray" checked={xray} onChange={(e) => set("xray", (e.target as HTMLInputElement).checked ? "1" : null)} /> Show subgraphs (xray)
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
                <button type="button" role="tab" aria-selected={schemaTab === name} class={schemaTab === name ? "tab active" : "tab"} onClick={() => set("schema", name)}>
                  {name}
                </button>
              ))}
            </div>
            <Loading error={schemas.error} loading={!schemas.data}>
              {schemas.data &&
                (schemas.data[`${schemaTab}_schema`] ? (
                  <JsonTree value={schemas.data[`${schemaTab}_schema`] as never} open={3} label={`${schemaTab} schema`} />
                ) : (
                  <p class="muted">This graph declares no {schemaTab} schema.</p>
                ))}
            </Loading>
          </Section>
          <Section title="Versions" id="versions">
            <ErrorBox error={setLatest.error} />
            <Loading error={versions.error} loading={!versions.data}>
              <table class="table">
                <thead>
                  <tr>
                    <th>Version</th>
                    <th>Name</th>
                    <th>Config</th>
                    <th>Created</th>
                    <th />
                  </tr>
                </thead>
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
                          <button type="button" disabled={setLatest.busy} onClick={() => void setLatest.run(async () => (await assistants.setLatest(a.assistant_id, v.version), reloadAll()))}>
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
