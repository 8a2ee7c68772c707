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
  type Database,
  type DatabaseTarget,
  describeTarget,
  type OpenDatabaseOptions,
  openDatabase,
  resolveDatabaseTarget,
} from "./database.js";
export * from "./entities/index.js";
export { newId } from "./ids.js";
export { migrationsList } from "./migrations/index.js";
export { isoTimestamp, runStatement, type Statement, selectRows, transaction, withParts } from "./statements.js";
