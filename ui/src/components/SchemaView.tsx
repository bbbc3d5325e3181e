// A JSON Schema made readable at a glance: one row per property (name, type, required,
// description), with the whole schema as a folded JSON tree below for the details.

import type { Json, JsonSchema } from "../api/types";
import { JsonTree } from "./JsonTree";
import { resolve } from "./SchemaForm";

/** "string", "list of string", "AIMessage | HumanMessage", ... (nested at most a few levels). */
export function typeLabel(schema: JsonSchema, root: JsonSchema, depth = 0): string {
  if (depth > 4) return "…";
  const union = schema.anyOf ?? schema.oneOf;
  if (union && union.filter((s) => s.type !== "null").length > 1) {
    return union.map((s) => typeLabel(s, root, depth + 1)).join(" | ");
  }
  const s = resolve(schema, root);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  const type = Array.isArray(s.type) ? s.type.join(" | ") : s.type;
  if (type === "array") return `list of ${typeLabel(s.items ?? {}, root, depth + 1)}`;
  if (type === "object" && s.title && s.properties) return s.title;
  if (s.anyOf ?? s.oneOf) return (s.anyOf ?? s.oneOf)!.map((u) => typeLabel(u, root, depth + 1)).join(" | ");
  return type ?? s.title ?? "any";
}

export function SchemaView({ schema, label }: { schema: JsonSchema; label: string }) {
  const resolved = resolve(schema, schema);
  const required = new Set(resolved.required ?? []);
  const properties = Object.entries(resolved.properties ?? {});
  return (
    <div class="schema-view">
      {properties.length > 0 && (
        <table class="table" aria-label={label}>
          <thead>
            <tr>
              <th>Field</th>
              <th>Type</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {properties.map(([name, property]) => (
              <tr key={name} data-field={name}>
                <td>
                  <code>{name}</code>
                  {required.has(name) && <span class="required"> *</span>}
                </td>
                <td>
                  <code>{typeLabel(property, schema)}</code>
                </td>
                <td class="muted">{(resolve(property, schema).description ?? "").split("\n")[0]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <details class="schema-json">
        <summary>JSON Schema</summary>
        <JsonTree value={schema as Json} open={1} label={`${label} (JSON)`} />
      </details>
    </div>
  );
}
