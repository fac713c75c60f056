import Foundation
import PostgresNIO

/// A batch's one statement, prepared once per connection (planning it took a large part of
/// the database's time per batch when sent as a new query each time). Parameters are JSON
/// arrays of records (`jsonb_to_recordset`): the rows' new states with the version each was
/// decided from, the pings, the ranges of old pings to prune, the flips, the alerts; and the
/// instance's name for the NOTIFY.
///
/// Rows are locked in UUID order where their version is still the expected one (two
/// instances' batches never deadlock, and a row another instance changed meanwhile is left
/// out); only those rows are updated, and only their pings, prunes, flips and alerts are
/// written and notified (a SELECT in a WITH runs only when referenced: the last column makes
/// the NOTIFY run). Each returned row is a check whose row changed, with the counts of pings,
/// flips and alerts inserted in all.
struct BatchWrite: PostgresPreparedStatement {
    static let channel = "kiothc_checks"
    /// Checks per NOTIFY payload (PostgreSQL takes 8,000 bytes; one item is ~45).
    static let notifyChunk = 150

    static let sql = """
        WITH x AS (
            SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(\(StateRow.recordColumns), expected bigint)),
        l AS (
            SELECT c.uuid FROM kiothc_checks c JOIN x ON c.uuid = x.uuid AND c.version = x.expected ORDER BY c.uuid FOR UPDATE OF c),
        s AS (
            UPDATE kiothc_checks c SET status = x.status, n_pings = x.n_pings, n_flips = x.n_flips, last_ping_us = x.last_ping_us,
                last_received_us = x.last_received_us, last_received_kind = x.last_received_kind, run_start_us = x.run_start_us,
                run_rid = x.run_rid, last_duration_us = x.last_duration_us, recent_starts = x.recent_starts, version = x.version
            FROM x WHERE c.uuid = x.uuid AND c.version = x.expected AND c.uuid IN (SELECT uuid FROM l)
            RETURNING c.uuid, c.version),
        p AS (
            INSERT INTO kiothc_pings (check_uuid, n, time_us, kind, method, scheme, remote_addr, user_agent, body, body_size, exit_status, rid, duration_us)
            SELECT check_uuid, n, time_us, kind, method, scheme, remote_addr, user_agent, decode(body, 'base64'), body_size, exit_status, rid, duration_us
            FROM jsonb_to_recordset($2::jsonb) AS y(\(PingRecords.pingRecordColumns))
            WHERE y.check_uuid IN (SELECT uuid FROM s) RETURNING 1),
        d AS (
            DELETE FROM kiothc_pings o USING jsonb_to_recordset($3::jsonb) AS z(check_uuid uuid, lo bigint, hi bigint)
            WHERE o.check_uuid = z.check_uuid AND z.check_uuid IN (SELECT uuid FROM s) AND o.n > z.lo AND o.n <= z.hi RETURNING 1),
        f AS (
            INSERT INTO kiothc_flips (\(PingRecords.flipColumns))
            SELECT * FROM jsonb_to_recordset($4::jsonb) AS v(\(PingRecords.flipRecordColumns))
            WHERE v.check_uuid IN (SELECT uuid FROM s) RETURNING 1),
        a AS (
            INSERT INTO kiothc_alerts (id, check_uuid, project, channel, record, created_us, next_attempt_us, held)
            SELECT id, check_uuid, project, channel, record, created_us, \(PingRecords.alertDue), COALESCE(held, false)
            FROM jsonb_to_recordset($5::jsonb) AS w(\(PingRecords.alertRecordColumns))
            WHERE w.check_uuid IN (SELECT uuid FROM s) RETURNING 1),
        n AS (
            SELECT pg_notify('\(channel)', $6 || ' ' || string_agg(t.item, ' ')) FROM (
                SELECT s.uuid::text || ':' || s.version AS item, (row_number() OVER ()) / \(notifyChunk) AS chunk FROM s) t
            GROUP BY t.chunk)
        SELECT s.uuid, (SELECT count(*) FROM p), (SELECT count(*) FROM f), (SELECT count(*) FROM a), (SELECT count(*) FROM n)
        FROM s
        """

    typealias Row = (UUID, Int64, Int64, Int64, Int64)

    let states: String
    let pings: String
    let prunes: String
    let flips: String
    let alerts: String
    let instance: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 6)
        for text in [states, pings, prunes, flips, alerts, instance] { bindings.append(text) }
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}
