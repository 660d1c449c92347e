/// <reference types="vitest/config" />
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// `npm run dev` serves the app with hot reload and hands every server path to `stoa serve`
// (STOA_URL, default http://127.0.0.1:8000), so the app talks to the API on its own origin as in production.
const stoa = process.env.STOA_URL ?? "http://127.0.0.1:8000";
const serverPaths = ["/api", "/oauth", "/.well-known", "/media", "/static", "/health"];

export default defineConfig({
  plugins: [preact()],
  build: {
    target: "es2022",
    // Inline nothing: the Content-Security-Policy allows scripts, styles and images from the origin only.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
  server: {
    host: "127.0.0.1", // a loopback redirect URI, which the server accepts over plain http
    port: 5173,
    proxy: Object.fromEntries(serverPaths.map((path) => [path, { target: stoa, ws: path === "/api" }])),
  },
  test: {
    environment: "happy-dom",
    include: ["tests/**/*.test.{ts,tsx}"],
  },
});
