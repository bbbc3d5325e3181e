// A JSON value as a tree whose objects and arrays fold open and shut (<details>).

import type { Json } from "../api/types";

function Scalar({ value }: { value: Json }) {
  if (value === null) return <span class="j-null">null</span>;
  if (typeof value === "string") return <span class="j-str">"{value}"</span>;
  if (typeof value === "number") return <span class="j-num">{String(value)}</span>;
  if (typeof value === "boolean") return <span class="j-bool">{String(value)}</span>;
  return <span>{JSON.stringify(value)}</span>;
}

function Node({ name, value, depth, open }: { name?: string; value: Json; depth: number; open: number }) {
  const label = name !== undefined ? <span class="j-key">{name}: </span> : null;
  if (value === null || typeof value !== "object") {
    return (
      <div class="j-row">
        {label}
        <Scalar value={value} />
      </div>
    );
  }
  const entries: [string, Json][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const [openBrace, closeBrace] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) {
    return (
      <div class="j-row">
        {label}
        <span class="j-punct">{openBrace + closeBrace}</span>
      </div>
    );
  }
  return (
    <details class="j-node" open={depth < open}>
      <summary>
        {label}
        <span class="j-punct">{openBrace}</span>
        <span class="j-count">
          {entries.length}{" "}
          {Array.isArray(value) ? (entries.length === 1 ? "item" : "items") : entries.length === 1 ? "key" : "keys"}
        </span>
        <span class="j-punct">{closeBrace}</span>
      </summary>
      <div class="j-children">
        {entries.map(([key, child]) => (
          <Node key={key} name={key} value={child} depth={depth + 1} open={open} />
        ))}
      </div>
    </details>
  );
}

/** `open`: how many levels start unfolded. */
export function JsonTree({ value, open = 2, label }: { value: Json | undefined; open?: number; label?: string }) {
  return (
    <div class="json-tree" aria-label={label ?? "JSON"}>
      <Node value={value === undefined ? null : value} depth={0} open={open} />
    </div>
  );
}
