// The credentials the person entered, kept for the browser tab's session only
// (sessionStorage): an API key (sent as x-api-key) or a bearer token (Authorization).

export type CredentialKind = "api-key" | "bearer";

export interface Credentials {
  kind: CredentialKind;
  value: string;
}

const KEY = "graphdock.credentials";

export function loadCredentials(): Credentials | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Credentials;
    return parsed && typeof parsed.value === "string" ? parsed : null;
  } catch {
    return null;
  }
}

export function saveCredentials(credentials: Credentials | null): void {
  if (credentials) sessionStorage.setItem(KEY, JSON.stringify(credentials));
  else sessionStorage.removeItem(KEY);
}

export function authHeaders(credentials: Credentials | null): Record<string, string> {
  if (!credentials) return {};
  return credentials.kind === "api-key"
    ? { "x-api-key": credentials.value }
    : { authorization: `Bearer ${credentials.value}` };
}
