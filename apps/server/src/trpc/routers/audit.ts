import { z } from "zod";
import { listAuditEvents, listAuditEventsByCursor } from "../../domain/audit-log.js";
import {
  auditEventOutput,
  auditFilters,
  cursorPageOf,
  cursorWindow,
  fields,
  pageOf,
  pageWindow,
} from "../../schemas.js";
import { adminProcedure, router } from "../trpc.js";

/** The audit trail: a tenant's ADMINs read their tenant's events; superusers every tenant's. */
export const auditRouter = router({
  list: adminProcedure
    .input(fields(auditFilters).default({}))
    .output(z.array(auditEventOutput))
    .query(async ({ ctx, input }) => (await listAuditEvents(ctx.svc, ctx.scope, input)).results),

  page: adminProcedure
    .input(fields({ ...auditFilters, ...pageWindow }))
    .output(pageOf(auditEventOutput))
    .query(({ ctx, input: { limit, offset, ...filter } }) =>
      listAuditEvents(ctx.svc, ctx.scope, filter, { limit, offset }),
    ),

  /** A page at a time by cursor (DRF's CursorPagination): pass `next` or `previous` back as `cursor`. */
  cursor: adminProcedure
    .input(fields({ ...auditFilters, ...cursorWindow }))
    .output(cursorPageOf(auditEventOutput))
    .query(({ ctx, input: { cursor, limit, ...filter } }) =>
      listAuditEventsByCursor(ctx.svc, ctx.scope, filter, { cursor, limit }),
    ),
});
