export {
  CheckConstraintViolationException,
  DriverException,
  type EntityManager,
  ForeignKeyConstraintViolationException,
  LockMode,
  MikroORM,
  NotNullConstraintViolationException,
  raw,
  sql,
  UniqueConstraintViolationException,
} from "@mikro-orm/postgresql";
export { type ConnectionOptions, ormConfig } from "./config.js";
export {
  beginOpenDatabase,
  type Database,
  type DatabaseTarget,
  describeTarget,
  type OpenDatabaseOptions,
  type OpeningDatabase,
  openDatabase,
  resolveDatabaseTarget,
} from "./database.js";
export { EMBEDDED_POOL_SIZE, type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded.js";
export * from "./entities/index.js";
export { newId } from "./ids.js";
export { migrationsList } from "./migrations/index.js";
export { isoTimestamp, runStatement, type Statement, selectRows, transaction, withParts } from "./statements.js";
