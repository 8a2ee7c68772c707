import { TRPCError } from "@trpc/server";
import { expect } from "vitest";
import type { FieldErrors } from "../domain/errors.js";
import { errorDetails } from "../trpc/errors.js";

/** The error a call failed with; fails the test if it succeeded. */
export async function failure(promise: Promise<unknown>): Promise<TRPCError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TRPCError);
    return error as TRPCError;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** The per-field messages the wire format carries in `data.fieldErrors`. */
export function fieldErrorsOf(error: TRPCError): FieldErrors {
  return errorDetails(error).fieldErrors;
}
