// A JSON text field that says at once whether its text parses, and where it does not.

import type { Json } from "../api/types";

export function parseJson(text: string): { value?: Json; error?: string } {
  if (!text.trim()) return { value: undefined };
  try {
    return { value: JSON.parse(text) as Json };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

export function pretty(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value, null, 2);
}

export function JsonEditor({
  value,
  onInput,
  label,
  rows = 8,
  name,
}: {
  value: string;
  onInput: (text: string) => void;
  label: string;
  rows?: number;
  name?: string;
}) {
  const { error } = parseJson(value);
  return (
    <label class="field json-editor">
      <span class="field-label">{label}</span>
      <textarea
        name={name}
        rows={rows}
        spellcheck={false}
        class={error ? "invalid" : ""}
        value={value}
        onInput={(event) => onInput((event.target as HTMLTextAreaElement).value)}
      />
      {error && <span class="field-error">Not valid JSON: {error}</span>}
    </label>
  );
}

/** The object in a JSON field, or an error naming the field. Empty text gives `empty`. */
export function objectFrom<T>(text: string, field: string, empty: T): T | Record<string, Json> {
  const { value, error } = parseJson(text);
  if (error) throw new Error(`${field}: not valid JSON: ${error}`);
  if (value === undefined) return empty;
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new Error(`${field}: must be a JSON object`);
  return value as Record<string, Json>;
}
