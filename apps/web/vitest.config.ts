import { defineProject, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.ts";

/** Component and client-logic tests in a simulated DOM; the browser suite (e2e/) runs separately. */
export default mergeConfig(
  sharedConfig,
  defineProject({
    oxc: { jsx: { runtime: "automatic" } },
    test: { name: "web", environment: "jsdom", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] },
  }),
);
