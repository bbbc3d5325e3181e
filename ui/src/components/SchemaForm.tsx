// An input form generated from a graph's input schema (JSON Schema, as langgraph emits it):
// one field per top-level property, typed by the property's schema. What a form cannot say
// well (nested objects, unions) gets a JSON field; a `messages` list gets a message box.

import { useState } from "preact/hooks";
import type { Json, JsonObject, JsonSchema } from "../api/types";
import { parseJson, pretty } from "./JsonEditor";

/** Follows `$ref`s into `$defs`, and unwraps `anyOf: [X, null]` (an optional X). */
export function resolve(schema: JsonSchema | undefined, root: JsonSchema): JsonSchema {
  let current = schema ?? {};
  for (let hops = 0; hops < 16; hops++) {
    if (current.$ref?.startsWith("#/")) {
      const path = current.$ref.slice(2).split("/");
      let target: unknown = root;
      for (const part of path) target = (target as Record<string, unknown> | undefined)?.[part];
      if (!target) return current;
      current = { ...(target as JsonSchema), ...withoutRef(current) };
      continue;
    }
    const union = current.anyOf ?? current.oneOf;
    if (union) {
      const real = union.filter((s) => s.type !== "null");
      if (real.length === 1) {
        current = {
          ...real[0],
          title: current.title ?? real[0].title,
          description: current.description ?? real[0].description,
        };
        continue;
      }
    }
    if (current.allOf?.length === 1) {
      current = { ...current.allOf[0], title: current.title };
      continue;
    }
    return current;
  }
  return current;
}

function withoutRef(schema: JsonSchema): JsonSchema {
  const { $ref: _ref, ...rest } = schema;
  return rest;
}

/** The form can render this schema (an object with named properties). */
export function formable(schema: JsonSchema | null | undefined): schema is JsonSchema {
  if (!schema) return false;
  const resolved = resolve(schema, schema);
  return !!resolved.properties && Object.keys(resolved.properties).length > 0;
}

type Kind = "messages" | "enum" | "string" | "number" | "integer" | "boolean" | "lines" | "json";

function kindOf(name: string, schema: JsonSchema, root: JsonSchema): Kind {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (type === "array" && name === "messages") return "messages";
  if (schema.enum) return "enum";
  if (type === "string") return "string";
  if (type === "integer") return "integer";
  if (type === "number") return "number";
  if (type === "boolean") return "boolean";
  if (type === "array" && resolve(schema.items, root).type === "string") return "lines";
  return "json";
}

interface FieldProps {
  name: string;
  schema: JsonSchema;
  root: JsonSchema;
  value: Json | undefined;
  onChange: (value: Json | undefined) => void;
}

function messageText(value: Json | undefined): string {
  if (!Array.isArray(value) || value.length === 0) return "";
  const last = value[value.length - 1];
  return last && typeof last === "object" && !Array.isArray(last) && typeof last.content === "string"
    ? last.content
    : "";
}

function JsonField({ name, value, onChange }: FieldProps) {
  const [text, setText] = useState(pretty(value));
  const { error } = parseJson(text);
  return (
    <>
      <textarea
        name={name}
        rows={4}
        spellcheck={false}
        class={error ? "invalid" : ""}
        value={text}
        onInput={(event) => {
          const next = (event.target as HTMLTextAreaElement).value;
          setText(next);
          const parsed = parseJson(next);
          if (!parsed.error) onChange(parsed.value);
        }}
      />
      {error && <span class="field-error">Not valid JSON: {error}</span>}
    </>
  );
}

function Field(props: FieldProps) {
  const { name, schema, root, value, onChange } = props;
  const kind = kindOf(name, schema, root);
  const target = (event: Event) => event.target as HTMLInputElement;
  switch (kind) {
    case "messages":
      return (
        <textarea
          name={name}
          rows={3}
          placeholder="A message from you (sent as a human message)"
          value={messageText(value)}
          onInput={(event) => {
            const text = target(event).value;
            onChange(text ? [{ role: "user", content: text }] : undefined);
          }}
        />
      );
    case "enum":
      return (
        <select
          name={name}
          value={value === undefined ? "" : JSON.stringify(value)}
          onChange={(event) => onChange(target(event).value ? JSON.parse(target(event).value) : undefined)}
        >
          <option value="">(not set)</option>
          {schema.enum!.map((option) => (
            <option value={JSON.stringify(option)}>{String(option)}</option>
          ))}
        </select>
      );
    case "string":
      return (
        <input
          name={name}
          type="text"
          value={typeof value === "string" ? value : ""}
          onInput={(event) => onChange(target(event).value || undefined)}
        />
      );
    case "integer":
    case "number":
      return (
        <input
          name={name}
          type="number"
          step={kind === "integer" ? 1 : "any"}
          value={typeof value === "number" ? String(value) : ""}
          onInput={(event) => {
            const text = target(event).value;
            onChange(text === "" ? undefined : kind === "integer" ? parseInt(text, 10) : Number(text));
          }}
        />
      );
    case "boolean":
      return (
        <select
          name={name}
          value={value === undefined ? "" : String(value)}
          onChange={(event) => onChange(target(event).value === "" ? undefined : target(event).value === "true")}
        >
          <option value="">(not set)</option>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      );
    case "lines":
      return (
        <textarea
          name={name}
          rows={3}
          placeholder="one item per line"
          value={Array.isArray(value) ? value.join("\n") : ""}
          onInput={(event) => {
            const lines = target(event)
              .value.split("\n")
              .filter((line) => line !== "");
            onChange(lines.length ? lines : undefined);
          }}
        />
      );
    default:
      return <JsonField {...props} />;
  }
}

export function SchemaForm({
  schema,
  value,
  onChange,
}: {
  schema: JsonSchema;
  value: JsonObject;
  onChange: (value: JsonObject) => void;
}) {
  const root = schema;
  const resolved = resolve(schema, root);
  const required = new Set(resolved.required ?? []);
  return (
    <div class="schema-form">
      {Object.entries(resolved.properties ?? {}).map(([name, raw]) => {
        const property = resolve(raw, root);
        const kind = kindOf(name, property, root);
        return (
          <label class="field" key={name}>
            <span class="field-label">
              {property.title ?? name}
              {required.has(name) && <span class="required"> *</span>}
              <span class="field-type">{kind === "messages" ? "message" : kind === "lines" ? "list" : kind}</span>
            </span>
            <Field
              name={name}
              schema={property}
              root={root}
              value={value[name]}
              onChange={(next) => {
                const copy = { ...value };
                if (next === undefined) delete copy[name];
                else copy[name] = next;
                onChange(copy);
              }}
            />
            {property.description && <span class="field-help">{property.description.split("\n")[0]}</span>}
          </label>
        );
      })}
    </div>
  );
}
