// Asks for an API key or a bearer token when the API refuses a request for want of one.

import { useState } from "preact/hooks";
import type { CredentialKind, Credentials } from "../api/credentials";

export function AuthDialog({
  reason,
  onSave,
  onCancel,
}: {
  reason: string;
  onSave: (credentials: Credentials) => void;
  onCancel: () => void;
}) {
  const [kind, setKind] = useState<CredentialKind>("api-key");
  const [value, setValue] = useState("");
  return (
    <div class="modal-backdrop">
      <form
        class="modal"
        role="dialog"
        aria-labelledby="auth-title"
        onSubmit={(event) => {
          event.preventDefault();
          if (value.trim()) onSave({ kind, value: value.trim() });
        }}
      >
        <h2 id="auth-title">This server needs credentials</h2>
        <p class="error">{reason}</p>
        <p class="muted">
          They are kept in this browser tab only (session storage) and sent with every request to this server.
        </p>
        <div class="radio-row">
          <label>
            <input type="radio" name="kind" checked={kind === "api-key"} onChange={() => setKind("api-key")} /> API key
            (x-api-key)
          </label>
          <label>
            <input type="radio" name="kind" checked={kind === "bearer"} onChange={() => setKind("bearer")} /> Bearer
            token (Authorization)
          </label>
        </div>
        <label class="field">
          <span class="field-label">{kind === "api-key" ? "API key" : "Token"}</span>
          <input
            name="credential"
            type="password"
            autocomplete="off"
            value={value}
            onInput={(event) => setValue((event.target as HTMLInputElement).value)}
            autofocus
          />
        </label>
        <div class="actions">
          <button type="submit" class="primary" disabled={!value.trim()}>
            Use these credentials
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
