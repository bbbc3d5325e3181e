// Every call the UI makes goes through here: same origin, JSON in and out, the session's
// credentials on each request, and failures turned into ApiError carrying the API's `detail`.

import { authHeaders, loadCredentials, type Credentials } from "./credentials";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "ApiError";
  }

  /** The server wants (other) credentials before it answers. */
  get needsCredentials(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

type AuthListener = (error: ApiError) => void;
const authListeners = new Set<AuthListener>();
let credentials: Credentials | null = loadCredentials();

/** Called whenever the API refuses a request for want of credentials (401/403). */
export function onAuthRequired(listener: AuthListener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

export function currentCredentials(): Credentials | null {
  return credentials;
}

export function setCredentials(next: Credentials | null): void {
  credentials = next;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
  accept?: string;
}

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** The API's `detail`, as a person would read it (FastAPI's validation lists included). */
export function describeDetail(detail: unknown, fallback: string): string {
  if (typeof detail === "string" && detail) return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item) => {
        if (item && typeof item === "object" && "msg" in item) {
          const loc = Array.isArray(item.loc) ? item.loc.join(".") : "";
          return loc ? `${loc}: ${item.msg}` : String(item.msg);
        }
        return JSON.stringify(item);
      })
      .join("; ");
  }
  if (detail !== undefined && detail !== null) return JSON.stringify(detail);
  return fallback;
}

async function errorOf(response: Response): Promise<ApiError> {
  const fallback = `${response.status} ${response.statusText || "error"} from ${response.url}`;
  let detail = fallback;
  try {
    const text = await response.text();
    try {
      detail = describeDetail((JSON.parse(text) as { detail?: unknown }).detail, text || fallback);
    } catch {
      detail = text || fallback;
    }
  } catch {
    // the body could not be read: keep the status line
  }
  const error = new ApiError(response.status, detail);
  if (error.needsCredentials) authListeners.forEach((listener) => listener(error));
  return error;
}

/** fetch with the session's credentials; a non-2xx answer throws ApiError. */
export async function send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: options.accept ?? "application/json", ...authHeaders(credentials) };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(url(path, options.query), { method, headers, body, signal: options.signal });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, `Could not reach the graphdock server (${(error as Error).message}). Is it running?`);
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

export interface Page<T> {
  items: T[];
  /** x-pagination-total, when the server sends it */
  total: number | null;
}

export async function call<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(method, path, options);
  if (response.status === 204) return null as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : null) as T;
}

export async function page<T>(method: string, path: string, options: RequestOptions = {}): Promise<Page<T>> {
  const response = await send(method, path, options);
  const total = response.headers.get("x-pagination-total");
  return { items: (await response.json()) as T[], total: total === null ? null : Number(total) };
}
