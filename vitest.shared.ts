import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

/**
 * Shared by every package's vitest config. Workspace packages export their
 * TypeScript source under the `@tenantry/source` condition, so tests run the
 * code as written, with no build step in between.
 */
const conditions = ["@tenantry/source", ...defaultServerConditions];

export const sharedConfig = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["@tenantry/source"] } },
  test: {
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
  },
});
