import Foundation
import Monitoring
import PingStore
import PostgresNIO

/// What `kiothc store copy` needs of a database: whether it holds data already, which kiothc
/// servers are connected, everything read whole (retired checks included), and everything
/// written in one transaction with multi-row statements (`jsonb_to_recordset`), a few thousand
/// rows each. No timeout of a ping's transaction applies: a large copy takes its time.
extension PostgresStore {
    /// A check's row as a copy writes it.
    public struct BulkCheck: Sendable {
        public var uuid: UUID
        public var identity: CheckIdentity
        public var created: Int64
        /// When it left the configuration; nil for a live check.
        public var retired: Int64?
        public var state: CheckState
        /// The number of its last flip.
        public var flips: Int

        public init(uuid: UUID, identity: CheckIdentity, created: Int64, retired: Int64?, state: CheckState, flips: Int) {
            self.uuid = uuid
            self.identity = identity
            self.created = created
            self.retired = retired
            self.state = state
            self.flips = flips
        }
    }

    /// An alert not finished yet, as its queue record.
    public struct BulkAlert: Sendable {
        public var id: UUID
        public var check: UUID
        public var project: String
        public var channel: String
        public var created: Int64
        /// The alert's queue record (JSON), as `Alert.queueRecord()` writes it.
        public var record: String
        /// Held back and not settled (SPEC §14): due never until settled. A released alert
        /// keeps its `hold` in the record, so the record alone cannot say.
        public var held: Bool

        public init(id: UUID, check: UUID, project: String, channel: String, created: Int64, record: String, held: Bool = false) {
            self.id = id
            self.check = check
            self.project = project
            self.channel = channel
            self.created = created
            self.record = record
            self.held = held
        }
    }

    /// Rows per statement of a copy (bodies bound the size as well).
    static let bulkRows = 2_000
    static let bulkBytes = 8 << 20

    /// What of a store the database holds (0 everywhere: nothing): checks (live and retired),
    /// generated ping keys, alerts, and whether an applied configuration is stored.
    public func contents() async throws -> (checks: Int, pingKeys: Int, alerts: Int, applied: Bool) {
        try await bulk("look at what the database holds") { connection in
            let rows = try await connection.query(
                """
                SELECT (SELECT count(*) FROM kiothc_checks), (SELECT count(*) FROM kiothc_ping_keys), (SELECT count(*) FROM kiothc_alerts),
                    EXISTS (SELECT 1 FROM kiothc_settings WHERE name = 'applied_catalog')
                """, logger: self.logger)
            for try await (checks, keys, alerts, applied) in rows.decode((Int64, Int64, Int64, Bool).self) {
                return (Int(checks), Int(keys), Int(alerts), applied)
            }
            return (0, 0, 0, false)
        }
    }

    /// The connections of kiothc servers to this database (application_name `kiothc` or
    /// `kiothc-listen`), as `pid application_name client (since start)`, other than this process's.
    public func serverConnections() async throws -> [String] {
        try await bulk("list the connections to the database") { connection in
            let rows = try await connection.query(
                """
                SELECT pid, application_name, COALESCE(host(client_addr), 'local socket'), COALESCE(to_char(backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '?')
                FROM pg_stat_activity
                WHERE datname = current_database() AND application_name IN ('kiothc', 'kiothc-listen') AND pid <> pg_backend_pid()
                ORDER BY pid
                """, logger: self.logger)
            var found: [String] = []
            for try await (pid, name, client, since) in rows.decode((Int32, String, String, String).self) {
                found.append("pid \(pid) (\(name)) from \(client) since \(since)")
            }
            return found
        }
    }

    /// Every check's row, retired ones included.
    public func allChecks() async throws -> [BulkCheck] {
        try await bulk("read the checks") { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: StateRow.columns), project, key, created_us FROM kiothc_checks ORDER BY uuid", logger: self.logger)
            var checks: [BulkCheck] = []
            for try await row in rows {
                let state = try StateRow(row: row)
                let columns = row.makeRandomAccess()
                let project = try columns[13].decode(String.self)
                let key = try columns[14].decode(String.self)
                let created = try columns[15].decode(Int64.self)
                let retired = try columns[12].decode(Int64?.self)
                checks.append(BulkCheck(
                    uuid: state.check, identity: CheckIdentity(project: project, key: key), created: created, retired: retired, state: state.state,
                    flips: Int(state.flips)))
            }
            return checks
        }
    }

    /// Every kept ping of a check, oldest first.
    public func allPings(of check: UUID) async throws -> [Ping] {
        try await bulk("read the pings of \(check.lowercasedText)") { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: PingRecords.pingColumns) FROM kiothc_pings WHERE check_uuid = \(check) ORDER BY n", logger: self.logger)
            var pings: [Ping] = []
            for try await row in rows { pings.append(try PingRecords.ping(row)) }
            return pings
        }
    }

    /// Every flip of a check, oldest first.
    public func allFlips(of check: UUID) async throws -> [StoredFlip] {
        try await bulk("read the flips of \(check.lowercasedText)") { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: PingRecords.flipReadColumns) FROM kiothc_flips WHERE check_uuid = \(check) ORDER BY n", logger: self.logger)
            var flips: [StoredFlip] = []
            for try await row in rows { flips.append(try PingRecords.flip(row)) }
            return flips
        }
    }

    /// The queue records of the alerts not finished (pending or being tried), oldest first,
    /// each with whether it is held back still (a released one keeps its `hold` in the record).
    public func pendingAlertRecords() async throws -> [(record: String, held: Bool)] {
        try await bulk("read the pending alerts") { connection in
            let rows = try await connection.query(
                "SELECT record, held FROM kiothc_alerts WHERE next_attempt_us IS NOT NULL ORDER BY seq", logger: self.logger)
            var records: [(record: String, held: Bool)] = []
            for try await (record, held) in rows.decode((String, Bool).self) { records.append((record, held)) }
            return records
        }
    }

    /// Writes a whole store in one transaction: all of it, or (on any failure) nothing.
    /// `pings` and `flips` are asked for check by check, so only one check's are in memory at
    /// once beyond what the caller holds. Alerts are due at once.
    public func importStore(
        checks: [BulkCheck], pingKeys: PingKeys, applied: AppliedCatalog?, alerts: [BulkAlert],
        pings: @escaping @Sendable (UUID) async throws -> [Ping], flips: @escaping @Sendable (UUID) async throws -> [StoredFlip]
    ) async throws {
        try await bulk("copy into the database") { connection in
            try await connection.query("BEGIN", logger: self.logger)
            do {
                for chunk in stride(from: 0, to: checks.count, by: Self.bulkRows) {
                    let records = checks[chunk..<min(checks.count, chunk + Self.bulkRows)].map(Self.record)
                    try await connection.query(
                        """
                        INSERT INTO kiothc_checks (uuid, project, key, created_us, retired_us, status, n_pings, n_flips, last_ping_us, last_received_us,
                            last_received_kind, run_start_us, run_rid, last_duration_us, recent_starts)
                        SELECT uuid, project, key, created_us, retired_us, status, n_pings, n_flips, last_ping_us, last_received_us,
                            last_received_kind, run_start_us, run_rid, last_duration_us, recent_starts
                        FROM jsonb_to_recordset(\(PingRecords.array(records))::jsonb) AS x(uuid uuid, project text, key text, created_us bigint,
                            retired_us bigint, \(unescaped: Self.stateRecordColumns))
                        """, logger: self.logger)
                }
                for check in checks {
                    try await Self.inChunks(try await pings(check.uuid).map { PingRecords.record($0, of: check.uuid) }) { array in
                        try await connection.query(
                            """
                            INSERT INTO kiothc_pings (check_uuid, n, time_us, kind, method, scheme, remote_addr, user_agent, body, body_size, exit_status, rid, duration_us)
                            SELECT check_uuid, n, time_us, kind, method, scheme, remote_addr, user_agent, decode(body, 'base64'), body_size, exit_status, rid, duration_us
                            FROM jsonb_to_recordset(\(array)::jsonb) AS y(\(unescaped: PingRecords.pingRecordColumns))
                            """, logger: self.logger)
                    }
                    try await Self.inChunks(try await flips(check.uuid).map { PingRecords.record($0.flip, n: Int64($0.n), of: check.uuid) }) { array in
                        try await connection.query(
                            """
                            INSERT INTO kiothc_flips (\(unescaped: PingRecords.flipColumns))
                            SELECT * FROM jsonb_to_recordset(\(array)::jsonb) AS v(\(unescaped: PingRecords.flipRecordColumns))
                            """, logger: self.logger)
                    }
                }
                let projects = pingKeys.keys.keys.sorted()
                let keys = projects.map { pingKeys.keys[$0]! }
                try await connection.query(
                    "INSERT INTO kiothc_ping_keys (project, key) SELECT * FROM unnest(\(projects)::text[], \(keys)::text[])", logger: self.logger)
                if let applied {
                    let document = String(decoding: applied.encoded(), as: UTF8.self)
                    try await connection.query(
                        "INSERT INTO kiothc_settings (name, value) VALUES ('applied_catalog', \(document)) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        logger: self.logger)
                }
                try await Self.inChunks(alerts.map(Self.record)) { array in
                    try await connection.query(
                        """
                        INSERT INTO kiothc_alerts (id, check_uuid, project, channel, record, created_us, next_attempt_us, held)
                        SELECT id, check_uuid, project, channel, record, created_us, \(unescaped: PingRecords.alertDue), COALESCE(held, false)
                        FROM jsonb_to_recordset(\(array)::jsonb) AS w(\(unescaped: PingRecords.alertRecordColumns))
                        """, logger: self.logger)
                }
                try await connection.query("COMMIT", logger: self.logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: self.logger)
                throw error
            }
        }
    }

    static let stateRecordColumns =
        "status text, n_pings bigint, n_flips bigint, last_ping_us bigint, last_received_us bigint, last_received_kind text, run_start_us bigint, run_rid uuid, last_duration_us bigint, recent_starts text"

    static func record(_ check: BulkCheck) -> [UInt8] {
        var object = JSONLineWriter()
        object.field("uuid", check.uuid)
        object.field("project", check.identity.project)
        object.field("key", check.identity.key)
        object.field("created_us", check.created)
        object.field("retired_us", check.retired)
        object.field("status", check.state.status.rawValue)
        object.field("n_pings", Int64(check.state.nPings))
        object.field("n_flips", Int64(check.flips))
        object.field("last_ping_us", check.state.lastPing)
        object.field("last_received_us", check.state.lastReceived)
        object.field("last_received_kind", check.state.lastReceivedKind?.rawValue)
        object.field("run_start_us", check.state.run?.start)
        object.field("run_rid", check.state.run?.rid)
        object.field("last_duration_us", check.state.lastDuration)
        object.field("recent_starts", StateRow.startsText(check.state.recentStarts))
        return object.object()
    }

    static func record(_ alert: BulkAlert) -> [UInt8] {
        var object = JSONLineWriter(capacity: alert.record.utf8.count + 200)
        object.field("id", alert.id)
        object.field("check_uuid", alert.check)
        object.field("project", alert.project)
        object.field("channel", alert.channel)
        object.field("record", alert.record)
        object.field("created_us", alert.created)
        if alert.held { object.field("held", json: Array("true".utf8)) }
        return object.object()
    }

    /// `write` with JSON arrays of at most `bulkRows` objects and about `bulkBytes` each.
    static func inChunks(_ objects: [[UInt8]], _ write: (String) async throws -> Void) async throws {
        var start = 0
        while start < objects.count {
            var end = start
            var bytes = 0
            while end < objects.count && end - start < bulkRows && (end == start || bytes + objects[end].count <= bulkBytes) {
                bytes += objects[end].count
                end += 1
            }
            try await write(PingRecords.array(Array(objects[start..<end])))
            start = end
        }
    }

    /// A copy's statement on a pooled connection, without the timeout of the ping path, its
    /// failure said for a person.
    func bulk<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { try await body($0) }
        } catch {
            throw DatabaseError(what, error)
        }
    }
}
