import { describe, expect, it } from "vitest";
import { notInvited, pastedAddresses, rowProblem } from "./bulk-invite.ts";

describe("bulk invite", () => {
  it("reads addresses one per line or comma-separated, trimmed, keeping repeats for the API to report", () => {
    expect(pastedAddresses(" a@x.example,b@x.example\n\nc@x.example ;  d@x.example\r\na@x.example,")).toEqual([
      "a@x.example",
      "b@x.example",
      "c@x.example",
      "d@x.example",
      "a@x.example",
    ]);
    expect(pastedAddresses(" \n , ")).toEqual([]);
  });

  it("words a refused row with every message the API gave", () => {
    expect(rowProblem({ email: ["Enter a valid email address."] })).toBe("Enter a valid email address.");
    expect(rowProblem({ email: ["A."], role: ["B."] })).toBe("A. B.");
    expect(rowProblem(undefined)).toBeNull();
  });

  it("leaves in the box only the addresses not invited, once each, never one another row invited", () => {
    const invitation = { id: "i" };
    expect(
      notInvited([
        { email: "a@x.example", invitation },
        { email: "bad" },
        { email: "a@x.example" },
        { email: "bad" },
        { email: "member@x.example" },
      ]),
    ).toEqual(["bad", "member@x.example"]);
  });
});
