import { describe, expect, it } from "vitest";
import { safeNext } from "../features/session.ts";
import { formatInstant, fullName, tokenFromLocation, windowLabel } from "./format.ts";

describe("formatting", () => {
  it("reads the invitation token from the fragment, or from the older query string", () => {
    expect(tokenFromLocation({ hash: "#token=abc.def", search: "" })).toBe("abc.def");
    expect(tokenFromLocation({ hash: "", search: "?token=old-style" })).toBe("old-style");
    expect(tokenFromLocation({ hash: "#token=new", search: "?token=old" })).toBe("new");
    expect(tokenFromLocation({ hash: "", search: "" })).toBeNull();
    expect(tokenFromLocation({ hash: "#token=", search: "" })).toBeNull();
  });

  it("returns only to the console's own pages after sign in", () => {
    expect(safeNext("/invitations?status=pending")).toBe("/invitations?status=pending");
    expect(safeNext("//evil.example/")).toBeUndefined();
    expect(safeNext("/\\evil.example")).toBeUndefined();
    expect(safeNext("https://evil.example/")).toBeUndefined();
    expect(safeNext(undefined)).toBeUndefined();
  });

  it("shows instants in UTC, names or the address, and list windows", () => {
    expect(formatInstant("2026-12-01T21:57:00Z")).toBe("1 Dec 2026, 21:57 UTC");
    expect(formatInstant(null)).toBe("—");
    expect(fullName({ firstName: "Ada", lastName: "", email: "ada@acme.example" })).toBe("Ada");
    expect(fullName({ firstName: "", lastName: "", email: "ada@acme.example" })).toBe("ada@acme.example");
    expect(windowLabel(20, 5, 25)).toBe("Showing 21–25 of 25");
    expect(windowLabel(0, 0, 0)).toBe("Nothing to show");
  });
});
