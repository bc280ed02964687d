// Vite: React, Tailwind, and (for `npm run dev`) a proxy to a `layer4 dev` on :3000,
// so the dev server and the built client talk to the API the same way (same origin).
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";

const api = process.env.LAYER4_API ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    proxy: {
      "/api": api,
      "/media": api,
      "/web-config.json": api,
    },
  },
  build: { chunkSizeWarningLimit: 1200 },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
