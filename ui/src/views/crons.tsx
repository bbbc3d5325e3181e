// Crons: every scheduled run with its next run time, and create / delete.

import { useState } from "preact/hooks";
import { Link, useSearchParams } from "wouter-preact";
import { assistants, crons } from "../api";
import type { Cron, JsonObject } from "../api/types";
import { ErrorBox, Loading, Section, ShortId, Time } from "../components/common";
import { JsonEditor, objectFrom, parseJson } from "../components/JsonEditor";
import { useAction, useLoad } from "../hooks";

const PAGE_SIZE = 20;

function CronRow({ cron, assistantName, onDeleted }: { cron: Cron; assistantName: string; onDeleted: () => void }) {
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  return (
    <tr data-cron={cron.cron_id}>
      <td>
        <ShortId id={cron.cron_id} />
      </td>
      <td>
        <Link href={`/assistants/${cron.assistant_id}`}>{assistantName}</Link>
      </td>
      <td>
        <code>{cron.schedule}</code>
        {cron.timezone ? <span class="muted"> {cron.timezone}</span> : null}
      </td>
      <td>
        {cron.thread_id ? (
          <Link href={`/threads/${cron.thread_id}`}>
            <ShortId id={cron.thread_id} />
          </Link>
        ) : (
          <span class="muted">a new thread each time</span>
        )}
      </td>
      <td class="next-run">{cron.enabled === false ? <span class="muted">disabled</span> : <Time iso={cron.next_run_date} />}</td>
      <td>
        <Time iso={cron.end_time} />
      </td>
      <td class="row-actions">
        {confirming ? (
          <button type="button" class="danger" disabled={action.busy} onClick={() => void action.run(async () => (await crons.delete(cron.cron_id), onDeleted()))}>
            Yes, delete
          </button>
        ) : (
          <button type="button" onClick={() => setConfirming(true)}>
            Delete
          </button>
        )}
        <ErrorBox error={action.error} />
      </td>
    </tr>
  );
}

export function CronsView() {
  const [params, setParams] = useSearchParams();
  const pageNumber = Math.max(1, Number(params.get("page")) || 1);
  const list = useLoad(() => crons.search({ limit: PAGE_SIZE, offset: (pageNumber - 1) * PAGE_SIZE }), [pageNumber]);
  const all = useLoad(() => assistants.search({ limit: 200 }), []);
  const names = new Map((all.data ?? []).map((a) => [a.assistant_id, a.name]));
  const [assistantId, setAssistantId] = useState("");
  const [schedule, setSchedule] = useState("*/5 * * * *");
  const [threadId, setThreadId] = useState("");
  const [timezone, setTimezone] = useState("");
  const [input, setInput] = useState("");
  const [metadata, setMetadata] = useState("");
  const create = useAction();
  const chosen = assistantId || all.data?.[0]?.assistant_id || "";
  const total = list.data?.total ?? null;
  return (
    <>
      <h1>Crons</h1>
      <Section title="Scheduled runs">
        <Loading error={list.error} loading={list.loading && !list.data}>
          {list.data?.items.length ? (
            <table class="table" aria-label="Crons">
              <thead>
                <tr>
                  <th>Cron</th>
                  <th>Assistant</th>
                  <th>Schedule</th>
                  <th>Thread</th>
                  <th>Next run</th>
                  <th>Ends</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((cron) => (
                  <CronRow key={cron.cron_id} cron={cron} assistantName={names.get(cron.assistant_id) ?? cron.assistant_id} onDeleted={list.reload} />
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">No crons.</p>
          )}
          <div class="pager">
            <button type="button" disabled={pageNumber <= 1} onClick={() => setParams({ page: String(pageNumber - 1) })}>
              ← Previous
            </button>
            <span>
              page {pageNumber}
              {total !== null ? ` (${total} crons)` : ""}
            </span>
            <button type="button" disabled={total !== null ? pageNumber * PAGE_SIZE >= total : (list.data?.items.length ?? 0) < PAGE_SIZE} onClick={() => setParams({ page: String(pageNumber + 1) })}>
              Next →
            </button>
          </div>
        </Loading>
      </Section>
      <Section title="New cron">
        <form
          class="form"
          aria-label="Create a cron"
          onSubmit={(event) => {
            event.preventDefault();
            void create.run(async () => {
              const parsed = parseJson(input);
              if (parsed.error) throw new Error(`input: not valid JSON: ${parsed.error}`);
              await crons.create(
                {
                  assistant_id: chosen,
                  schedule: schedule.trim(),
                  input: parsed.value,
                  metadata: objectFrom(metadata, "metadata", undefined) as JsonObject | undefined,
                  timezone: timezone.trim() || undefined,
                },
                threadId.trim() || undefined,
              );
              list.reload();
            });
          }}
        >
          <div class="row">
            <label class="field">
              <span class="field-label">Assistant</span>
              <select name="assistant" value={chosen} onChange={(e) => setAssistantId((e.target as HTMLSelectElement).value)}>
                {(all.data ?? []).map((a) => (
                  <option value={a.assistant_id}>
                    {a.name} ({a.graph_id})
                  </option>
                ))}
              </select>
            </label>
            <label class="field">
              <span class="field-label">Schedule (cron syntax)</span>
              <input name="schedule" value={schedule} onInput={(e) => setSchedule((e.target as HTMLInputElement).value)} />
            </label>
            <label class="field">
              <span class="field-label">Time zone</span>
              <input name="timezone" value={timezone} placeholder="UTC" onInput={(e) => setTimezone((e.target as HTMLInputElement).value)} />
            </label>
            <label class="field grow">
              <span class="field-label">Thread (empty: a new thread each run)</span>
              <input name="thread" value={threadId} onInput={(e) => setThreadId((e.target as HTMLInputElement).value)} />
            </label>
          </div>
          <div class="row">
            <JsonEditor label="Input" name="input" rows={3} value={input} onInput={setInput} />
            <JsonEditor label="Metadata" name="metadata" rows={3} value={metadata} onInput={setMetadata} />
          </div>
          <ErrorBox error={create.error} />
          <div class="actions">
            <button type="submit" class="primary" disabled={create.busy || !chosen}>
              Create cron
            </button>
          </div>
        </form>
      </Section>
    </>
  );
}
