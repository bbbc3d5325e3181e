// Small pieces every view uses: errors as the API's detail, times, statuses, ids.

import type { ComponentChildren } from "preact";
import { ApiError } from "../api";

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.status ? `${error.detail} (HTTP ${error.status})` : error.detail;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorBox({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  return (
    <div class="error" role="alert">
      {errorText(error)}
    </div>
  );
}

/** A view's data: its error, a loading line, or the children once the data is there. */
export function Loading({
  error,
  loading,
  children,
}: {
  error: unknown;
  loading: boolean;
  children: ComponentChildren;
}) {
  if (error) return <ErrorBox error={error} />;
  if (loading) return <p class="muted">Loading…</p>;
  return <>{children}</>;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  const date = new Date(iso);
  return (
    <time dateTime={iso} title={iso}>
      {date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })}
    </time>
  );
}

export function Status({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

/** The first part of a UUID, with the whole of it in the tooltip. */
export function ShortId({ id }: { id: string }) {
  return (
    <code class="id" title={id}>
      {id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id}
    </code>
  );
}

export function Section({
  title,
  actions,
  children,
  id,
}: {
  title: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
  id?: string;
}) {
  return (
    <section class="card" id={id}>
      <header class="card-head">
        <h2>{title}</h2>
        {actions && <div class="actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

/** A table's header row; an empty name leaves a column for row actions. */
export function TableHead({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((name) => (
          <th>{name}</th>
        ))}
      </tr>
    </thead>
  );
}
