// Builds graphdock Studio into the Python package (src/graphdock/server/api/ui_bundle), where
// the server's /ui routes serve it. `npm run dev` serves it with hot reload instead, and sends
// API calls to the graphdock server named by GRAPHDOCK_URL (default http://127.0.0.1:8123).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const api = process.env.GRAPHDOCK_URL ?? "http://127.0.0.1:8123";
const apiPaths = ["/assistants", "/threads", "/runs", "/store", "/info", "/ok"];

export default defineConfig({
  base: "/ui/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../src/graphdock/server/api/ui_bundle", import.meta.url)),
    emptyOutDir: true,
    // One script and one stylesheet, nothing inlined as data URLs, no source maps:
    // small, and byte-for-byte the same on every machine (the bundle check relies on it).
    assetsInlineLimit: 0,
    sourcemap: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: { proxy: Object.fromEntries(apiPaths.map((p) => [p, api])) },
});
