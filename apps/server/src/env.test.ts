import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { InvalidEnvironment, loadEnv } from "./env.js";

describe("configuration", () => {
  it("has defaults for a fresh machine: port 3000 on loopback, the embedded database in .data", () => {
    const env = loadEnv({});
    expect(env).toMatchObject({ port: 3000, host: "127.0.0.1", databaseUrl: undefined, throttle: true });
    expect(env.dataDir).toBe(resolve(".data"));
  });

  it("treats an empty DATABASE_URL as unset", () => {
    expect(loadEnv({ DATABASE_URL: "  " }).databaseUrl).toBeUndefined();
  });

  it("rejects every bad value at once", () => {
    try {
      loadEnv({ PORT: "70000", LOG_LEVEL: "loud", THROTTLE: "maybe", DATABASE_URL: "http://x" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidEnvironment);
      const problems = (error as InvalidEnvironment).problems.join("\n");
      for (const name of ["PORT", "LOG_LEVEL", "THROTTLE", "DATABASE_URL"]) expect(problems).toContain(name);
    }
  });
});
