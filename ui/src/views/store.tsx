// The long-term store: its namespaces, the items under one, search (semantic when the
// server has a store index, by filter otherwise), and put / delete.

import { useState } from "preact/hooks";
import { useSearchParams } from "wouter-preact";
import { store } from "../api";
import type { Item, JsonObject } from "../api/types";
import { ErrorBox, Loading, Section, Time } from "../components/common";
import { ConfirmButton, Pager, pageFrom, Submit, TextField } from "../components/forms";
import { JsonEditor, objectFrom } from "../components/JsonEditor";
import { JsonTree } from "../components/JsonTree";
import { useAction, useLoad } from "../hooks";

const PAGE_SIZE = 20;

/** "users.ana" ⇄ ["users", "ana"]: the API's own dotted form (GET /store/items?namespace=). */
const toPath = (text: string) =>
  text
    .split(".")
    .map((s) => s.trim())
    .filter(Boolean);
const toText = (path: string[]) => path.join(".");

function withPage(params: URLSearchParams, page: number): URLSearchParams {
  const next = new URLSearchParams(params);
  next.set("page", String(page));
  return next;
}

function ItemRow({ item, onDeleted }: { item: Item; onDeleted: () => void }) {
  const action = useAction();
  return (
    <li class="item" data-key={item.key}>
      <div class="item-head">
        <code>{toText(item.namespace)}</code> / <strong>{item.key}</strong>
        {item.score !== undefined && item.score !== null && <span class="badge">score {item.score.toFixed(3)}</span>}
        <span class="muted">
          {" "}
          updated <Time iso={item.updated_at} />
        </span>
        <span class="row-actions">
          <ConfirmButton
            busy={action.busy}
            onConfirm={() =>
              void action.run(
                async () => (await store.delete({ namespace: item.namespace, key: item.key }), onDeleted()),
              )
            }
          />
        </span>
      </div>
      <JsonTree value={item.value} open={1} label={`Value of ${item.key}`} />
      <ErrorBox error={action.error} />
    </li>
  );
}

export function StoreView() {
  const [params, setParams] = useSearchParams();
  const namespace = params.getAll("ns");
  const query = params.get("q") ?? "";
  const filterText = params.get("filter") ?? "";
  const pageNumber = pageFrom(params);
  const key = params.toString();
  const namespaces = useLoad(() => store.namespaces({ limit: 200 }), []);
  const items = useLoad(
    async () =>
      store.search({
        namespace_prefix: namespace,
        query: query || undefined,
        filter: filterText ? (objectFrom(filterText, "filter", {}) as JsonObject) : undefined,
        limit: PAGE_SIZE,
        offset: (pageNumber - 1) * PAGE_SIZE,
      }),
    [key],
  );
  const [nsText, setNsText] = useState(toText(namespace));
  const [queryText, setQueryText] = useState(query);
  const [filterDraft, setFilterDraft] = useState(filterText);
  const [putNs, setPutNs] = useState(toText(namespace));
  const [putKey, setPutKey] = useState("");
  const [putValue, setPutValue] = useState("");
  const put = useAction();
  const go = (ns: string[], q: string, filter: string) => {
    const next = new URLSearchParams();
    ns.forEach((part) => next.append("ns", part));
    if (q) next.set("q", q);
    if (filter) next.set("filter", filter);
    setParams(next);
    setNsText(toText(ns));
    setPutNs(toText(ns));
  };
  const refresh = () => {
    items.reload();
    namespaces.reload();
  };
  return (
    <>
      <h1>Store</h1>
      <div class="columns">
        <div class="column-side narrow">
          <Section title="Namespaces">
            <Loading error={namespaces.error} loading={!namespaces.data}>
              <ul class="ns-list">
                <li>
                  <button
                    type="button"
                    class={namespace.length === 0 ? "link active" : "link"}
                    onClick={() => go([], "", "")}
                  >
                    (everything)
                  </button>
                </li>
                {(namespaces.data?.namespaces ?? []).map((ns) => (
                  <li>
                    <button
                      type="button"
                      class={toText(ns) === toText(namespace) ? "link active" : "link"}
                      data-namespace={toText(ns)}
                      onClick={() => go(ns, "", "")}
                    >
                      {toText(ns)}
                    </button>
                  </li>
                ))}
              </ul>
              {namespaces.data?.namespaces.length === 0 && <p class="muted">The store is empty.</p>}
            </Loading>
          </Section>
        </div>
        <div class="column-main">
          <Section title="Search">
            <form
              class="row"
              aria-label="Search the store"
              onSubmit={(event) => {
                event.preventDefault();
                go(toPath(nsText), queryText.trim(), filterDraft.trim());
              }}
            >
              <TextField
                label="Namespace prefix"
                name="namespace"
                value={nsText}
                placeholder="users.ana"
                onInput={setNsText}
              />
              <TextField
                label="Query (semantic search, when the server has a store index)"
                name="query"
                value={queryText}
                placeholder="what the item is about"
                onInput={setQueryText}
                grow
              />
              <TextField
                label="Filter (JSON)"
                name="filter"
                value={filterDraft}
                placeholder='{"kind": "note"}'
                onInput={setFilterDraft}
              />
              <Submit label="Search" end />
            </form>
            <Loading error={items.error} loading={items.loading && !items.data}>
              <ul class="items" aria-label="Items">
                {(items.data?.items ?? []).map((item) => (
                  <ItemRow key={`${toText(item.namespace)}/${item.key}`} item={item} onDeleted={refresh} />
                ))}
              </ul>
              {items.data?.items.length === 0 && <p class="muted">No item matches.</p>}
              <Pager
                page={pageNumber}
                hasNext={(items.data?.items.length ?? 0) === PAGE_SIZE}
                onPage={(page) => setParams((p) => withPage(p, page))}
              />
            </Loading>
          </Section>
          <Section title="Put an item">
            <form
              class="form"
              aria-label="Put an item"
              onSubmit={(event) => {
                event.preventDefault();
                void put.run(async () => {
                  const ns = toPath(putNs);
                  if (ns.length === 0) throw new Error("Namespace: give at least one label, such as users.ana");
                  if (!putKey.trim()) throw new Error("Key: give the item a key");
                  await store.put({
                    namespace: ns,
                    key: putKey.trim(),
                    value: objectFrom(putValue, "value", {}) as JsonObject,
                  });
                  setPutKey("");
                  setPutValue("");
                  refresh();
                });
              }}
            >
              <div class="row">
                <TextField
                  label="Namespace"
                  name="put-namespace"
                  value={putNs}
                  placeholder="users.ana"
                  onInput={setPutNs}
                />
                <TextField label="Key" name="put-key" value={putKey} onInput={setPutKey} />
              </div>
              <JsonEditor
                label="Value (a JSON object)"
                name="put-value"
                rows={4}
                value={putValue}
                onInput={setPutValue}
              />
              <Submit label="Put item" busy={put.busy} error={put.error} />
            </form>
          </Section>
        </div>
      </div>
    </>
  );
}
