// A conversation (a state's `messages`) as chat: human and AI turns, the AI's tool calls,
// and tool results, each drawn its own way.

import type { Json, JsonObject } from "../api/types";
import { JsonTree } from "./JsonTree";

export interface ChatMessage {
  id?: string;
  type: string;
  content: Json;
  name?: string | null;
  tool_calls?: { id?: string; name: string; args: Json }[];
  tool_call_id?: string;
  /** streamed token by token: the chunks as they came */
  chunks?: string[];
  streaming?: boolean;
}

const ROLES: Record<string, string> = {
  user: "human",
  assistant: "ai",
  AIMessageChunk: "ai",
  HumanMessageChunk: "human",
  ToolMessageChunk: "tool",
};

export function asMessage(raw: Json): ChatMessage | null {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return null;
  const m = raw as JsonObject;
  const type = String(m.type ?? m.role ?? "");
  if (!type) return null;
  return {
    id: typeof m.id === "string" ? m.id : undefined,
    type: ROLES[type] ?? type,
    content: m.content ?? "",
    name: typeof m.name === "string" ? m.name : null,
    tool_calls: Array.isArray(m.tool_calls) ? (m.tool_calls as ChatMessage["tool_calls"]) : undefined,
    tool_call_id: typeof m.tool_call_id === "string" ? m.tool_call_id : undefined,
  };
}

/** The messages of a state, if it has a `messages` list of message-like objects. */
export function messagesOf(values: Json | undefined): ChatMessage[] | null {
  if (!values || typeof values !== "object" || Array.isArray(values)) return null;
  const list = (values as JsonObject).messages;
  if (!Array.isArray(list)) return null;
  const messages = list.map(asMessage);
  return messages.every((m) => m !== null) ? (messages as ChatMessage[]) : null;
}

function Content({ content }: { content: Json }) {
  if (typeof content === "string") return <div class="msg-text">{content}</div>;
  if (Array.isArray(content)) {
    return (
      <>
        {content.map((block) =>
          typeof block === "string" ? (
            <div class="msg-text">{block}</div>
          ) : block && typeof block === "object" && !Array.isArray(block) && block.type === "text" ? (
            <div class="msg-text">{String(block.text ?? "")}</div>
          ) : (
            <JsonTree value={block} open={1} />
          ),
        )}
      </>
    );
  }
  return <JsonTree value={content} open={1} />;
}

const WHO: Record<string, string> = { human: "You", ai: "AI", tool: "Tool", system: "System" };

export function Message({ message }: { message: ChatMessage }) {
  const kind = WHO[message.type] ? message.type : "other";
  return (
    <div class={`msg msg-${kind}`} data-role={message.type} data-streaming={message.streaming ? "true" : undefined}>
      <div class="msg-who">
        {kind === "tool" ? `Tool result${message.name ? `: ${message.name}` : ""}` : (WHO[kind] ?? message.type)}
        {message.tool_call_id && <span class="muted"> for {message.tool_call_id}</span>}
      </div>
      {message.chunks ? (
        <div class="msg-text" data-chunks={message.chunks.length}>
          {message.chunks.map((chunk, i) => (
            <span class="chunk" key={i}>
              {chunk}
            </span>
          ))}
          {message.streaming && <span class="cursor" aria-hidden="true" />}
        </div>
      ) : (
        <Content content={message.content} />
      )}
      {message.tool_calls?.map((call) => (
        <div class="tool-call" key={call.id ?? call.name}>
          <div class="tool-call-head">
            Tool call <code>{call.name}</code>
            {call.id && <span class="muted"> {call.id}</span>}
          </div>
          <JsonTree value={call.args} open={1} />
        </div>
      ))}
    </div>
  );
}

export function Chat({ messages }: { messages: ChatMessage[] }) {
  if (messages.length === 0) return <p class="muted">No messages yet.</p>;
  return (
    <div class="chat">
      {messages.map((message, i) => (
        <Message message={message} key={message.id ?? i} />
      ))}
    </div>
  );
}
