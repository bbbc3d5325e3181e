// The API's records, as the UI reads them (the LangGraph API's wire shapes).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Assistant {
  assistant_id: string;
  graph_id: string;
  name: string;
  description?: string | null;
  config: JsonObject;
  context: JsonObject;
  metadata: JsonObject;
  version: number;
  created_at: string;
  updated_at: string;
}

export type AssistantVersion = Omit<Assistant, "updated_at">;

export interface GraphNode {
  id: string;
  type?: string;
  data?: Json;
  metadata?: JsonObject | null;
}

export interface GraphEdge {
  source: string;
  target: string;
  data?: Json;
  conditional?: boolean;
}

export interface GraphJson {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: Json[];
  const?: Json;
  default?: Json;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
}

export interface GraphSchemas {
  graph_id: string;
  input_schema: JsonSchema | null;
  output_schema: JsonSchema | null;
  state_schema: JsonSchema | null;
  config_schema: JsonSchema | null;
  context_schema: JsonSchema | null;
}

export type ThreadStatus = "idle" | "busy" | "interrupted" | "error";
export const THREAD_STATUSES: ThreadStatus[] = ["idle", "busy", "interrupted", "error"];

export interface Interrupt {
  id?: string;
  value: Json;
}

export interface Thread {
  thread_id: string;
  created_at: string;
  updated_at: string;
  metadata: JsonObject;
  status: ThreadStatus;
  values: Json;
  interrupts?: Record<string, Interrupt[]>;
  error?: Json;
}

export interface CheckpointRef {
  checkpoint_id: string;
  thread_id?: string;
  checkpoint_ns?: string;
}

export interface Task {
  id: string;
  name: string;
  error?: string | null;
  interrupts: Interrupt[];
  state?: Json;
}

export interface ThreadState {
  values: Json;
  next: string[];
  tasks: Task[];
  metadata: JsonObject & { step?: number; source?: string };
  created_at: string | null;
  checkpoint: CheckpointRef | null;
  parent_checkpoint: CheckpointRef | null;
  interrupts?: Interrupt[];
}

export type RunStatus = "pending" | "running" | "error" | "success" | "timeout" | "interrupted";

export interface Run {
  run_id: string;
  thread_id: string;
  assistant_id: string;
  status: RunStatus;
  metadata: JsonObject;
  created_at: string;
  updated_at: string;
  multitask_strategy?: string | null;
}

export interface Item {
  namespace: string[];
  key: string;
  value: JsonObject;
  created_at: string;
  updated_at: string;
  score?: number | null;
}

export interface Cron {
  cron_id: string;
  assistant_id: string;
  thread_id: string | null;
  schedule: string;
  timezone?: string | null;
  next_run_date: string | null;
  end_time: string | null;
  enabled?: boolean;
  payload: JsonObject;
  metadata: JsonObject;
  created_at: string;
  updated_at: string;
}

export interface ServerInfo {
  version: string;
  flags?: { crons?: boolean; store?: boolean };
  graphdock?: { storage?: string; graphs?: string[] };
}
