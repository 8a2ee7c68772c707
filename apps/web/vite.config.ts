import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";

/** The console is built into `dist/`, which the server serves at `/`; `vite` alone proxies the API to a local server. */
export default defineConfig({
  plugins: [tailwindcss()],
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    rolldownOptions: {
      // Radix's "use client" markers mean nothing in a client-only bundle.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  server: {
    proxy: {
      "/trpc": "http://127.0.0.1:3000",
      "/api": "http://127.0.0.1:3000",
    },
  },
});
