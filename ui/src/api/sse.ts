// Server-sent events read from a fetch response: the run streams are POSTs, which
// EventSource cannot send. Parsing follows the HTML standard's event-stream rules.

import { send } from "./http";

export interface StreamEvent {
  /** e.g. "updates", "messages", or "custom|worker:1f2e..." for a subgraph's event */
  event: string;
  data: unknown;
  id?: string;
}

export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  const dispatch = (): StreamEvent | null => {
    if (data.length === 0) {
      event = "";
      return null;
    }
    const raw = data.join("\n");
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // not JSON: keep the text
    }
    const out: StreamEvent = { event: event || "message", data: parsed, id };
    event = "";
    data = [];
    return out;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        const width = buffer.startsWith("\r\n", newline) ? 2 : 1;
        if (buffer[newline] === "\r" && width === 1 && newline === buffer.length - 1) break; // maybe \r\n split
        buffer = buffer.slice(newline + width);
        if (line === "") {
          const out = dispatch();
          if (out) yield out;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (field === "event") event = text;
        else if (field === "data") data.push(text);
        else if (field === "id") id = text;
      }
    }
    const last = dispatch();
    if (last) yield last;
  } finally {
    reader.releaseLock();
  }
}

/** POST `body` to a streaming endpoint and yield its events until the server ends the stream. */
export async function* streamPost(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<StreamEvent> {
  const response = await send("POST", path, { body, signal, accept: "text/event-stream" });
  if (!response.body) return;
  yield* readEvents(response.body);
}
