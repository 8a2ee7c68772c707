import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../test-support/server.js";

/** One line per answered request at `info`; nothing per request at `warn`, the production level. */
describe("the request log", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  async function linesAt(level: string): Promise<Record<string, unknown>[]> {
    const logLines: string[] = [];
    server = await startTestServer({ env: { LOG_LEVEL: level }, logLines });
    const before = logLines.length;
    expect((await fetch(`${server.url}/api/users/me/`)).status).toBe(401);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    return logLines.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it("writes one line per request at info, with method, url, status and duration", async () => {
    const lines = (await linesAt("info")).filter((line) => line.msg === "request");
    expect(lines.map(({ method, url, statusCode }) => ({ method, url, statusCode }))).toEqual([
      { method: "GET", url: "/api/users/me/", statusCode: 401 },
      { method: "GET", url: "/healthz", statusCode: 200 },
    ]);
    for (const line of lines) {
      expect(line.durationMs).toEqual(expect.any(Number));
      expect(line.requestId).toEqual(expect.any(String));
    }
  });

  it("writes none at warn", async () => {
    expect(await linesAt("warn")).toEqual([]);
  });
});
