// Crons: every scheduled run with its next run time, and create / delete.

import { useState } from "preact/hooks";
import { Link, useSearchParams } from "wouter-preact";
import { assistants, crons } from "../api";
import type { Cron, JsonObject } from "../api/types";
import { ErrorBox, Loading, Section, ShortId, TableHead, Time } from "../components/common";
import { ConfirmButton, Pager, pageFrom, Submit, TextField } from "../components/forms";
import { JsonEditor, objectFrom, parseJson } from "../components/JsonEditor";
import { useAction, useLoad } from "../hooks";

const PAGE_SIZE = 20;

function CronRow({ cron, assistantName, onDeleted }: { cron: Cron; assistantName: string; onDeleted: () => void }) {
  const action = useAction();
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
      <td class="next-run">
        {cron.enabled === false ? <span class="muted">disabled</span> : <Time iso={cron.next_run_date} />}
      </td>
      <td>
        <Time iso={cron.end_time} />
      </td>
      <td class="row-actions">
        <ConfirmButton
          busy={action.busy}
          onConfirm={() => void action.run(async () => (await crons.delete(cron.cron_id), onDeleted()))}
        />
        <ErrorBox error={action.error} />
      </td>
    </tr>
  );
}

export function CronsView() {
  const [params, setParams] = useSearchParams();
  const pageNumber = pageFrom(params);
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
              <TableHead columns={["Cron", "Assistant", "Schedule", "Thread", "Next run", "Ends", ""]} />
              <tbody>
                {list.data.items.map((cron) => (
                  <CronRow
                    key={cron.cron_id}
                    cron={cron}
                    assistantName={names.get(cron.assistant_id) ?? cron.assistant_id}
                    onDeleted={list.reload}
                  />
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">No crons.</p>
          )}
          <Pager
            page={pageNumber}
            summary={total !== null ? ` (${total} crons)` : undefined}
            hasNext={total !== null ? pageNumber * PAGE_SIZE < total : (list.data?.items.length ?? 0) === PAGE_SIZE}
            onPage={(page) => setParams({ page: String(page) })}
          />
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
              <select
                name="assistant"
                value={chosen}
                onChange={(e) => setAssistantId((e.target as HTMLSelectElement).value)}
              >
                {(all.data ?? []).map((a) => (
                  <option value={a.assistant_id}>
                    {a.name} ({a.graph_id})
                  </option>
                ))}
              </select>
            </label>
            <TextField label="Schedule (cron syntax)" name="schedule" value={schedule} onInput={setSchedule} />
            <TextField label="Time zone" name="timezone" value={timezone} placeholder="UTC" onInput={setTimezone} />
            <TextField
              label="Thread (empty: a new thread each run)"
              name="thread"
              value={threadId}
              onInput={setThreadId}
              grow
            />
          </div>
          <div class="row">
            <JsonEditor label="Input" name="input" rows={3} value={input} onInput={setInput} />
            <JsonEditor label="Metadata" name="metadata" rows={3} value={metadata} onInput={setMetadata} />
          </div>
          <Submit label="Create cron" busy={create.busy} error={create.error} disabled={!chosen} />
        </form>
      </Section>
    </>
  );
}
