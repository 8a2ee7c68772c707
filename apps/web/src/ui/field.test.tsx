import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { SelectField, TextField } from "./field.tsx";

afterEach(cleanup);

describe("form fields", () => {
  it("label their control and tie the API's message to it", () => {
    render(<TextField label="Email" name="email" error="Enter a valid email address." />);
    const input = screen.getByLabelText("Email");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const described = document.getElementById(input.getAttribute("aria-describedby") ?? "");
    expect(described?.textContent).toBe("Enter a valid email address.");
  });

  it("show a hint until there is an error, and no invalid state without one", () => {
    render(<SelectField label="Role" options={[{ value: "", label: "No role" }]} hint="Optional" />);
    const select = screen.getByLabelText("Role");
    expect(select.getAttribute("aria-invalid")).toBeNull();
    expect(document.getElementById(select.getAttribute("aria-describedby") ?? "")?.textContent).toBe("Optional");
  });
});
