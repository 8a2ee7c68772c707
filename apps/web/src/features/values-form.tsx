import type { ReactNode } from "react";
import { Alert } from "../ui/alert.tsx";
import { valuesOf } from "./forms.ts";

/**
 * A form whose submission hands its values (and the form, to reset it) to the
 * caller, with the API's form-level error above its fields. The browser's own
 * validation is off: the API's messages are the ones shown.
 */
export function ValuesForm({
  onValues,
  error,
  children,
}: {
  onValues: (values: Record<string, string>, form: HTMLFormElement) => void;
  error?: string | null | undefined;
  children: ReactNode;
}) {
  return (
    <form
      noValidate
      className="space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        onValues(valuesOf(event.currentTarget), event.currentTarget);
      }}
    >
      {error && <Alert tone="error">{error}</Alert>}
      {children}
    </form>
  );
}
