export { ClickHouse, type ClickHouseOptions } from './client.js';
export { eventsSql } from './events-sql.js';
export { funnelSql, funnelUsersSql } from './funnel-sql.js';
export { heatmapSql } from './heatmap-sql.js';
export { type EventRow, eventRow, insertEvents } from './insert.js';
export { MIGRATIONS, migrate } from './migrations.js';
export { pathsSql } from './paths-sql.js';
export { retentionSql } from './retention-sql.js';
