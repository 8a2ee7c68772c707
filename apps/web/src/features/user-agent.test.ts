import { describe, expect, it } from "vitest";
import { browserSummary } from "./user-agent.ts";

describe("browserSummary", () => {
  it("names common browsers and systems in a few words", () => {
    expect(
      browserSummary(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
      ),
    ).toBe("Headless Chrome on Linux");
    expect(
      browserSummary(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0",
      ),
    ).toBe("Edge on Windows");
    expect(
      browserSummary(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
      ),
    ).toBe("Safari on iOS");
    expect(browserSummary("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36")).toBe(
      "Chrome on Android",
    );
    expect(browserSummary("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:133.0) Gecko/20100101 Firefox/133.0")).toBe(
      "Firefox on macOS",
    );
  });

  it("falls back to the first product token, or says it does not know", () => {
    expect(browserSummary("curl/8.5.0")).toBe("curl");
    expect(browserSummary(null)).toBe("Unknown browser");
    expect(browserSummary("  ")).toBe("Unknown browser");
  });
});
