// The shell: navigation, the credentials prompt, and one route per view. Every view is a URL
// under /ui/ (its filters in the query string), so any screen can be pasted to a colleague.

import { useEffect, useState } from "preact/hooks";
import { Link, Redirect, Route, Router, Switch, useRoute } from "wouter-preact";
import { ApiError, currentCredentials, info, onAuthRequired, setCredentials } from "./api";
import { saveCredentials, type Credentials } from "./api/credentials";
import { AuthDialog } from "./components/AuthDialog";
import { SessionEpoch, useLoad } from "./hooks";
import { AssistantView, AssistantsView } from "./views/assistants";
import { CronsView } from "./views/crons";
import { RunView } from "./views/run";
import { StoreView } from "./views/store";
import { ThreadView } from "./views/thread";
import { ThreadsView } from "./views/threads";

function NavLink({ href, label }: { href: string; label: string }) {
  const [active] = useRoute(`${href}/*?`);
  return (
    <Link href={href} class={active ? "nav-link active" : "nav-link"}>
      {label}
    </Link>
  );
}

function ServerLine() {
  const server = useLoad(info, []);
  if (!server.data) return null;
  return (
    <span class="muted server-line">
      graphdock {server.data.version}
      {server.data.graphdock?.storage ? ` · ${server.data.graphdock.storage}` : ""}
    </span>
  );
}

function NotFound() {
  return (
    <div class="card">
      <h2>No such page</h2>
      <p>
        Nothing lives at this address in the UI. <Link href="/assistants">See the graphs</Link>.
      </p>
    </div>
  );
}

export function App() {
  const [epoch, setEpoch] = useState(0);
  const [prompt, setPrompt] = useState<string | null>(null);
  const [signedIn, setSignedIn] = useState(currentCredentials() !== null);
  useEffect(
    () =>
      onAuthRequired((error: ApiError) => {
        // A 403 with credentials already given is a refusal of one resource: the view shows it.
        if (error.status === 401 || currentCredentials() === null) setPrompt(error.detail);
      }),
    [],
  );
  const use = (credentials: Credentials | null) => {
    saveCredentials(credentials);
    setCredentials(credentials);
    setSignedIn(credentials !== null);
    setPrompt(null);
    setEpoch((n) => n + 1);
  };
  return (
    <SessionEpoch.Provider value={epoch}>
      <Router base="/ui">
        <div class="shell">
          <nav class="sidebar">
            <Link href="/assistants" class="brand">
              graphdock <span>Studio</span>
            </Link>
            <NavLink href="/assistants" label="Graphs" />
            <NavLink href="/threads" label="Threads" />
            <NavLink href="/run" label="Run" />
            <NavLink href="/store" label="Store" />
            <NavLink href="/crons" label="Crons" />
            <div class="sidebar-foot">
              <ServerLine />
              {signedIn ? (
                <button type="button" class="link" onClick={() => use(null)}>
                  Forget credentials
                </button>
              ) : (
                <button
                  type="button"
                  class="link"
                  onClick={() => setPrompt("Enter an API key or a token for this server.")}
                >
                  Enter credentials
                </button>
              )}
            </div>
          </nav>
          <main class="content">
            <Switch>
              <Route path="/">
                <Redirect to="/assistants" replace />
              </Route>
              <Route path="/assistants" component={AssistantsView} />
              <Route path="/assistants/:id">{(params) => <AssistantView id={params.id} />}</Route>
              <Route path="/threads" component={ThreadsView} />
              <Route path="/threads/:id">{(params) => <ThreadView id={params.id} />}</Route>
              <Route path="/run" component={RunView} />
              <Route path="/store" component={StoreView} />
              <Route path="/crons" component={CronsView} />
              <Route component={NotFound} />
            </Switch>
          </main>
        </div>
        {prompt !== null && <AuthDialog reason={prompt} onSave={use} onCancel={() => setPrompt(null)} />}
      </Router>
    </SessionEpoch.Provider>
  );
}
