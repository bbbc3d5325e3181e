// The form pieces every view repeats: a labelled text field, a submit row with the action's
// error above it, a delete button that asks once more, and a pager.

import { useState } from "preact/hooks";
import { ErrorBox } from "./common";

export function TextField({
  label,
  name,
  value,
  onInput,
  placeholder,
  grow,
}: {
  label: string;
  name: string;
  value: string;
  onInput: (text: string) => void;
  placeholder?: string;
  grow?: boolean;
}) {
  return (
    <label class={grow ? "field grow" : "field"}>
      <span class="field-label">{label}</span>
      <input
        name={name}
        value={value}
        placeholder={placeholder}
        onInput={(event) => onInput((event.target as HTMLInputElement).value)}
      />
    </label>
  );
}

/** The form's submit button, and what went wrong the last time (the API's detail). */
export function Submit({
  label,
  busy,
  error,
  disabled,
  end,
}: {
  label: string;
  busy?: boolean;
  error?: unknown;
  disabled?: boolean;
  end?: boolean;
}) {
  return (
    <>
      <ErrorBox error={error} />
      <div class={end ? "actions end" : "actions"}>
        <button type="submit" class="primary" disabled={busy || disabled}>
          {label}
        </button>
      </div>
    </>
  );
}

/** A destructive button that takes a second click ("Yes, delete") before it acts. */
export function ConfirmButton({
  label = "Delete",
  confirm = "Yes, delete",
  busy,
  onConfirm,
}: {
  label?: string;
  confirm?: string;
  busy?: boolean;
  onConfirm: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  return confirming ? (
    <>
      <button type="button" class="danger" disabled={busy} onClick={onConfirm}>
        {confirm}
      </button>
      <button type="button" onClick={() => setConfirming(false)}>
        Keep
      </button>
    </>
  ) : (
    <button type="button" onClick={() => setConfirming(true)}>
      {label}
    </button>
  );
}

/** The page number in a view's URL (`?page=`), 1 when absent or wrong. */
export function pageFrom(params: URLSearchParams): number {
  return Math.max(1, Number(params.get("page")) || 1);
}

export function Pager({
  page,
  hasNext,
  summary,
  onPage,
  labels = ["← Previous", "Next →"],
}: {
  page: number;
  hasNext: boolean;
  summary?: string;
  onPage: (page: number) => void;
  labels?: [string, string];
}) {
  return (
    <div class="pager">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {labels[0]}
      </button>
      <span>
        page {page}
        {summary ?? ""}
      </span>
      <button type="button" disabled={!hasNext} onClick={() => onPage(page + 1)}>
        {labels[1]}
      </button>
    </div>
  );
}
