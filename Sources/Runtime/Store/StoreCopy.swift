import Alerting
import Crypto
import Foundation
import Logging
import Monitoring
import PingStore
import PostgresStore

/// `kiothc store copy` (SPEC §11): a whole store moved between a data directory and a
/// PostgreSQL database, either way — the registry (live and retired UUIDs), generated ping
/// keys, the applied configuration, every check's pings (all kept, with their numbers) and
/// flips (so its state, pause included), and the alerts not finished — then verified by
/// reading both sides again: per check the counts and SHA-256 checksums of its pings and flips,
/// its status and ping count, and the registry, keys, configuration and pending alerts.
///
/// The target must hold nothing yet. Nothing else may write the source meanwhile: a data
/// directory's `serve.lock` is held for the whole copy; a database with kiothc servers
/// connected is refused.
public enum StoreCopy {
    /// A data directory or a database, from `--from` / `--to`.
    public enum Endpoint: Sendable, CustomStringConvertible {
        case directory(String)
        case database(PostgresLocation)

        public init(_ text: String) throws(Failure) {
            if PostgresLocation.isPostgres(text) {
                do {
                    self = .database(try PostgresLocation(text))
                } catch {
                    throw Failure(description: error.description)
                }
            } else {
                guard !text.isEmpty else { throw Failure(description: "an empty path is not a data directory") }
                self = .directory(text)
            }
        }

        public var description: String {
            switch self {
            case .directory(let path): "data directory '\(path)'"
            case .database(let location): "\(location)"
            }
        }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The application name of a copy's connections (servers are `kiothc`, and a copy refuses
    /// a database they are connected to).
    public static let applicationName = "kiothc-copy"

    /// Copies and verifies. Throws when the copy cannot be made (nothing usable written: a
    /// database target is written in one transaction); a copy made but not matching comes back
    /// as a `Verification` with mismatches.
    public static func run(from source: Endpoint, to target: Endpoint, now: Int64, logger: Logger) async throws(Failure) -> Verification {
        switch (source, target) {
        case (.directory(let from), .database(let to)):
            return try await filesToDatabase(DataDirectory(from), to, now: now, logger: logger)
        case (.database(let from), .directory(let to)):
            return try await databaseToFiles(from, DataDirectory(to), now: now, logger: logger)
        default:
            throw Failure(description: "copy from a data directory to a postgres:// database, or from a database to a data directory (not \(source) to \(target))")
        }
    }

    /// Compares a store with its copy again (what `run` does after copying), writing nothing:
    /// a directory is read under its `serve.lock`, a database opened without migrating.
    public static func verify(_ source: Endpoint, against target: Endpoint, logger: Logger) async throws(Failure) -> Verification {
        var locks: [DataDirectoryLock] = []
        var databases: [PostgresStore] = []
        defer { for lock in locks { lock.release() } }
        func side(_ endpoint: Endpoint) async throws(Failure) -> any StoreSide {
            switch endpoint {
            case .directory(let path):
                let data = DataDirectory(path)
                locks.append(try holdSource(data))
                return FileSide(data: data)
            case .database(var location):
                if location.applicationName == "kiothc" { location.applicationName = applicationName }
                do {
                    let database = try await PostgresStore.openExisting(location, logger: logger)
                    databases.append(database)
                    return DatabaseSide(store: database)
                } catch {
                    throw Failure(description: "\(error)")
                }
            }
        }
        do {
            let from = try await side(source)
            let to = try await side(target)
            let verification = try await Verification.compare(try await Content.read(from), from, with: to)
            for database in databases { await database.closeConnections() }
            return verification
        } catch {
            for database in databases { await database.closeConnections() }
            throw error as? Failure ?? Failure(description: "\(error)")
        }
    }

    // MARK: directions

    static func filesToDatabase(_ data: DataDirectory, _ location: PostgresLocation, now: Int64, logger: Logger) async throws(Failure) -> Verification {
        let lock = try holdSource(data)
        defer { lock.release() }
        try await recover(data, now: now)
        let source = FileSide(data: data)
        let database = try await openTarget(location, logger: logger)
        do {
            let content = try await Content.read(source)
            let checks = content.checks.map { check in
                PostgresStore.BulkCheck(
                    uuid: check.uuid, identity: check.identity, created: now, retired: check.retired, state: check.state, flips: check.flips)
            }
            let alerts = try content.alerts.map { alert in
                PostgresStore.BulkAlert(
                    id: alert.id, check: alert.check, project: alert.project, channel: alert.channel, created: alert.created,
                    record: String(decoding: try alert.queueRecord(), as: UTF8.self), held: alert.hold != nil)
            }
            try await database.importStore(
                checks: checks, pingKeys: content.pingKeys, applied: content.applied, alerts: alerts,
                pings: { uuid in try source.pings(of: uuid, retired: content.isRetired(uuid)) },
                flips: { uuid in try source.flips(of: uuid, retired: content.isRetired(uuid)) })
            let verification = try await Verification.compare(content, source, with: DatabaseSide(store: database))
            await database.closeConnections()
            return verification
        } catch {
            await database.closeConnections()
            throw error as? Failure ?? Failure(description: "\(error)")
        }
    }

    static func databaseToFiles(_ location: PostgresLocation, _ data: DataDirectory, now: Int64, logger: Logger) async throws(Failure) -> Verification {
        var location = location
        if location.applicationName == "kiothc" { location.applicationName = applicationName }
        let database: PostgresStore
        do {
            database = try await PostgresStore.openExisting(location, logger: logger)
        } catch {
            throw Failure(description: "\(error)")
        }
        do {
            try await refuseServers(database)
            try refuseNonEmpty(data)
            let lock: DataDirectoryLock
            do {
                lock = try DataDirectoryLock.acquire(data)
            } catch {
                throw Failure(description: "cannot take \(data.path)/\(DataDirectoryLock.fileName): \(error)")
            }
            defer { lock.release() }
            let source = DatabaseSide(store: database)
            let content = try await Content.read(source)
            try await write(content, from: source, to: data, now: now)
            let verification = try await Verification.compare(content, source, with: FileSide(data: data))
            await database.closeConnections()
            return verification
        } catch {
            await database.closeConnections()
            throw error as? Failure ?? Failure(description: "\(error)")
        }
    }

    // MARK: guards

    /// The source directory's `serve.lock`: no server runs on it while it is copied.
    static func holdSource(_ data: DataDirectory) throws(Failure) -> DataDirectoryLock {
        guard FileManager.default.fileExists(atPath: data.path) else {
            throw Failure(description: "no data directory at '\(data.path)'")
        }
        guard FileManager.default.fileExists(atPath: data.path + "/registry.json") else {
            throw Failure(description: "'\(data.path)' has no registry.json: not a kiothc data directory (or no server has loaded checks into it)")
        }
        do {
            return try DataDirectoryLock.acquire(data)
        } catch {
            switch error {
            case .held(_, _, let pid):
                throw Failure(description: "a server\(pid.map { " (pid \($0))" } ?? "") is using '\(data.path)' (it holds serve.lock): stop it, then copy")
            case .io(let problem):
                throw Failure(description: "cannot take '\(data.path)/\(DataDirectoryLock.fileName)': \(problem)")
            }
        }
    }

    /// The source directory as a server would find it at a start: its journal replayed into
    /// the check files, the alerts queued with their flips taken into the outbox. Nothing else
    /// changes.
    static func recover(_ data: DataDirectory, now: Int64) async throws(Failure) {
        do {
            let store = try PingStore.open(data, options: PingStore.Options(maintenanceInterval: nil))
            do {
                let queued = try store.queuedAlerts()
                let outbox = try Outbox(
                    directory: data.path + "/alerts", now: now, queued: queued.alerts.map { ($0.n, $0.record) },
                    flipStored: { alert in
                        (try? store.reader.allFlips(of: alert.check, retired: false))?.contains { $0.flip.time == alert.flipTime } ?? true
                    })
                try await outbox.close()
            } catch {
                try? store.close()
                throw error
            }
            try store.close()
        } catch {
            throw Failure(description: "cannot open the data directory '\(data.path)': \(error)")
        }
    }

    static func refuseNonEmpty(_ data: DataDirectory) throws(Failure) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: data.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw Failure(description: "'\(data.path)' is a file, not a directory") }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: data.path)) ?? ["?"]
        guard entries.isEmpty else {
            throw Failure(
                description: "the target '\(data.path)' is not empty (\(entries.sorted().prefix(5).joined(separator: ", "))\(entries.count > 5 ? ", …" : "")): "
                    + "copy into a new or empty directory")
        }
    }

    static func refuseServers(_ database: PostgresStore) async throws(Failure) {
        let servers: [String]
        do {
            servers = try await database.serverConnections()
        } catch {
            throw Failure(description: "\(error)")
        }
        guard servers.isEmpty else {
            throw Failure(
                description: "kiothc servers are connected to \(database.location): stop them, then copy (connections: \(servers.joined(separator: "; ")))")
        }
    }

    /// The target database: its schema created if missing, and nothing of a store in it yet.
    static func openTarget(_ location: PostgresLocation, logger: Logger) async throws(Failure) -> PostgresStore {
        var location = location
        if location.applicationName == "kiothc" { location.applicationName = applicationName }
        let database: PostgresStore
        do {
            database = try await PostgresStore.open(location, keepPings: 1, logger: logger)
        } catch {
            throw Failure(description: "\(error)")
        }
        do {
            try await refuseServers(database)
            let contents = try await database.contents()
            guard contents.checks == 0 && contents.pingKeys == 0 && contents.alerts == 0 && !contents.applied else {
                throw Failure(
                    description: "the target \(location) is not empty (\(contents.checks) checks, \(contents.pingKeys) ping keys, \(contents.alerts) alerts"
                        + "\(contents.applied ? ", an applied configuration" : "")): copy into a database without kiothc data")
            }
            return database
        } catch {
            await database.closeConnections()
            throw error as? Failure ?? Failure(description: "\(error)")
        }
    }

    // MARK: writing a data directory

    /// Through the store itself (JSON-lines files, ping numbers kept), so a server started on
    /// the directory finds everything; retired checks' files are moved to `retired/` as a
    /// server does.
    static func write(_ content: Content, from source: some StoreSide, to data: DataDirectory, now: Int64) async throws {
        try content.registry.write(to: data)
        try content.pingKeys.write(to: data)
        try content.applied?.save(to: data)
        let store = try PingStore.open(data, options: PingStore.Options(maintenanceInterval: nil))
        do {
            let (acknowledged, continuation) = AsyncStream<(any Error)?>.makeStream()
            var appended = 0
            for check in content.checks {
                for ping in try await source.pings(of: check.uuid, retired: check.retired != nil) {
                    appended += 1
                    store.append(ping, to: check.uuid, flip: nil) { continuation.yield($0) }
                }
            }
            var failure: (any Error)?
            if appended > 0 {
                var seen = 0
                for await error in acknowledged {
                    if failure == nil, let error { failure = error }
                    seen += 1
                    if seen == appended { break }
                }
            }
            if let failure { throw failure }
            // Flips one check after another within a check, checks side by side (batches).
            try await withThrowingTaskGroup(of: Void.self) { group in
                for check in content.checks {
                    let flips = try await source.flips(of: check.uuid, retired: check.retired != nil)
                    group.addTask {
                        for stored in flips { try await store.append(stored.flip, to: check.uuid) }
                    }
                }
                try await group.waitForAll()
            }
            for check in content.checks where check.retired != nil {
                try store.retire(check.uuid)
            }
            try store.close()
        } catch {
            try? store.close()
            throw error
        }
        let outbox = try Outbox(directory: data.path + "/alerts", now: now)
        try await outbox.enqueue(content.alerts)
        try await outbox.close()
    }
}

// MARK: reading either side

/// What a copy reads of a store (and of its target, to verify).
protocol StoreSide: Sendable {
    var name: String { get }
    func registry() async throws -> Registry
    func pingKeys() async throws -> PingKeys
    func applied() async throws -> AppliedCatalog?
    /// Every check's state and the number of its last flip, retired checks included.
    func states(_ registry: Registry) async throws -> [UUID: (state: CheckState, flips: Int)]
    func pings(of check: UUID, retired: Bool) async throws -> [Ping]
    func flips(of check: UUID, retired: Bool) async throws -> [StoredFlip]
    /// Alerts not finished, oldest first.
    func pendingAlerts() async throws -> [Alert]
}

struct FileSide: StoreSide {
    let data: DataDirectory
    var reader: StoreReader { StoreReader(data) }
    var name: String { "'\(data.path)'" }

    func registry() throws -> Registry { try Registry.load(from: data) }
    func pingKeys() throws -> PingKeys { try PingKeys.load(from: data) }
    func applied() throws -> AppliedCatalog? { try AppliedCatalog.load(from: data) }

    func states(_ registry: Registry) throws -> [UUID: (state: CheckState, flips: Int)] {
        var states: [UUID: (state: CheckState, flips: Int)] = [:]
        for uuid in registry.checks.values {
            states[uuid] = (try reader.loadState(of: uuid), try reader.flips(of: uuid, limit: 1).first?.n ?? 0)
        }
        for retired in registry.retired {
            // A retired check's files are under retired/, which a start does not scan: its state
            // is what its last ping and flip say.
            let lastPing = try reader.allPings(of: retired.uuid, retired: true).last
            let lastFlip = try reader.allFlips(of: retired.uuid, retired: true).last
            states[retired.uuid] = (CheckState(status: lastFlip?.flip.new ?? .new, nPings: lastPing?.n ?? 0, lastPing: lastPing?.time), lastFlip?.n ?? 0)
        }
        return states
    }

    func pings(of check: UUID, retired: Bool) throws -> [Ping] { try reader.allPings(of: check, retired: retired) }
    func flips(of check: UUID, retired: Bool) throws -> [StoredFlip] { try reader.allFlips(of: check, retired: retired) }

    func pendingAlerts() throws -> [Alert] {
        guard FileManager.default.fileExists(atPath: data.path + "/alerts/outbox.jsonl") else { return [] }
        return try Outbox.entries(directory: data.path + "/alerts").filter { $0.nextAttempt != nil && !$0.held && !$0.withdrawn }.map { entry in
            // A released alert travels without its hold (else it would arrive held again).
            var alert = entry.alert
            if entry.released { alert.hold = nil }
            return alert
        }
    }
}

struct DatabaseSide: StoreSide {
    let store: PostgresStore
    var name: String { "\(store.location)" }

    func registry() async throws -> Registry { try await store.loadRegistry() }
    func pingKeys() async throws -> PingKeys { try await store.loadPingKeys() }
    func applied() async throws -> AppliedCatalog? { try await store.loadAppliedCatalog() }

    func states(_ registry: Registry) async throws -> [UUID: (state: CheckState, flips: Int)] {
        Dictionary(try await store.allChecks().map { ($0.uuid, ($0.state, $0.flips)) }, uniquingKeysWith: { $1 })
    }

    func pings(of check: UUID, retired: Bool) async throws -> [Ping] { try await store.allPings(of: check) }
    func flips(of check: UUID, retired: Bool) async throws -> [StoredFlip] { try await store.allFlips(of: check) }

    func pendingAlerts() async throws -> [Alert] {
        try await store.pendingAlertRecords().map { record, held in
            guard var alert = Alert(queueRecord: Array(record.utf8)) else {
                throw StoreCopy.Failure(description: "an alert in \(store.location) cannot be read: \(record.prefix(200))")
            }
            // A released alert travels without its hold (else it would arrive held again).
            if !held { alert.hold = nil }
            return alert
        }
    }
}

/// The source as read once: identity, and per check its state (pings and flips are read
/// check by check when written, and again to verify).
struct Content: Sendable {
    struct Check: Sendable {
        var uuid: UUID
        var identity: CheckIdentity
        var retired: Int64?
        var state: CheckState
        var flips: Int
    }

    var registry: Registry
    var pingKeys: PingKeys
    var applied: AppliedCatalog?
    var checks: [Check]
    var alerts: [Alert]

    func isRetired(_ uuid: UUID) -> Bool { registry.isRetired(uuid) }

    static func read(_ side: any StoreSide) async throws -> Content {
        let registry = try await side.registry()
        let states = try await side.states(registry)
        var checks = registry.checks.map { identity, uuid in
            Check(uuid: uuid, identity: identity, retired: nil, state: states[uuid]?.state ?? .new, flips: states[uuid]?.flips ?? 0)
        }
        checks += registry.retired.map {
            Check(uuid: $0.uuid, identity: $0.identity, retired: $0.time, state: states[$0.uuid]?.state ?? .new, flips: states[$0.uuid]?.flips ?? 0)
        }
        checks.sort { ($0.identity.project, $0.identity.key, $0.retired ?? .max) < ($1.identity.project, $1.identity.key, $1.retired ?? .max) }
        return Content(
            registry: registry, pingKeys: try await side.pingKeys(), applied: try await side.applied(), checks: checks,
            alerts: try await side.pendingAlerts())
    }
}

// MARK: verification

/// Both sides read again and compared: per check the counts and checksums of pings and
/// flips, and for a live check its status and ping count; the registry, generated keys,
/// applied configuration and pending alerts.
public struct Verification: Sendable {
    public struct Row: Sendable {
        public var check: String
        public var uuid: UUID
        public var retired: Bool
        public var pings: (source: Int, target: Int)
        public var flips: (source: Int, target: Int)
        /// The SHA-256 over the pings' and flips' canonical lines, in hex.
        public var checksum: (source: String, target: String)
        /// What differs, for a person; empty when the check matches.
        public var problems: [String]
    }

    public var rows: [Row]
    /// Differences outside any one check (registry, keys, configuration, alerts).
    public var problems: [String]
    public var alerts: (source: Int, target: Int)
    public var source: String
    public var target: String

    /// Everything matches.
    public var matches: Bool { problems.isEmpty && rows.allSatisfy(\.problems.isEmpty) }

    /// Every problem, each naming its check.
    public var mismatches: [String] {
        problems + rows.flatMap { row in row.problems.map { "\(row.check) (\(row.uuid.lowercasedText)): \($0)" } }
    }

    static func compare(_ content: Content, _ source: any StoreSide, with target: any StoreSide) async throws -> Verification {
        var problems: [String] = []
        let registry = try await target.registry()
        if registry != content.registry {
            let missing = Set(content.registry.checks.values).union(content.registry.retired.map(\.uuid))
                .subtracting(Set(registry.checks.values).union(registry.retired.map(\.uuid)))
            problems.append("the registry differs (\(registry.checks.count) live and \(registry.retired.count) retired checks in the target, "
                + "\(content.registry.checks.count) and \(content.registry.retired.count) in the source\(missing.isEmpty ? "" : "; missing: \(missing.map(\.lowercasedText).sorted().joined(separator: ", "))"))")
        }
        if try await target.pingKeys().keys != content.pingKeys.keys { problems.append("the generated ping keys differ") }
        if try await target.applied() != content.applied { problems.append("the applied configuration differs") }
        let targetAlerts = try await target.pendingAlerts()
        if Set(targetAlerts.map(\.id)) != Set(content.alerts.map(\.id)) {
            problems.append("pending alerts differ: \(content.alerts.count) in the source, \(targetAlerts.count) in the target")
        }
        let targetStates = try await target.states(registry)
        var rows: [Row] = []
        for check in content.checks {
            let retired = check.retired != nil
            let sourcePings = try await source.pings(of: check.uuid, retired: retired)
            let sourceFlips = try await source.flips(of: check.uuid, retired: retired)
            let targetPings = try await target.pings(of: check.uuid, retired: retired)
            let targetFlips = try await target.flips(of: check.uuid, retired: retired)
            let sourceSum = Digest.of(sourcePings, sourceFlips)
            let targetSum = Digest.of(targetPings, targetFlips)
            var differences: [String] = []
            if sourcePings.count != targetPings.count {
                differences.append("\(sourcePings.count) pings in the source, \(targetPings.count) in the target")
            } else if Digest.of(sourcePings, []) != Digest.of(targetPings, []) {
                let first = zip(sourcePings, targetPings).first { Digest.line($0) != Digest.line($1) }
                differences.append("pings differ\(first.map { " (first: ping \($0.0.n))" } ?? "")")
            }
            if sourceFlips.count != targetFlips.count {
                differences.append("\(sourceFlips.count) flips in the source, \(targetFlips.count) in the target")
            } else if Digest.of([], sourceFlips) != Digest.of([], targetFlips) {
                differences.append("flips differ")
            }
            if !retired {
                let state = targetStates[check.uuid]?.state ?? .new
                if state.status != check.state.status || state.nPings != check.state.nPings {
                    differences.append(
                        "state differs: \(check.state.status.rawValue) after ping \(check.state.nPings) in the source, \(state.status.rawValue) after ping \(state.nPings) in the target")
                }
            }
            rows.append(Row(
                check: "\(check.identity)", uuid: check.uuid, retired: retired, pings: (sourcePings.count, targetPings.count),
                flips: (sourceFlips.count, targetFlips.count), checksum: (sourceSum, targetSum), problems: differences))
        }
        return Verification(rows: rows, problems: problems, alerts: (content.alerts.count, targetAlerts.count), source: source.name, target: target.name)
    }

    /// One line per check, then the totals.
    public func table() -> String {
        var lines = [["CHECK", "UUID", "PINGS", "FLIPS", "SHA-256", "RESULT"]]
        for row in rows {
            lines.append([
                row.check + (row.retired ? " (retired)" : ""), row.uuid.lowercasedText, Self.pair(row.pings), Self.pair(row.flips),
                row.checksum.source == row.checksum.target
                    ? String(row.checksum.source.prefix(12)) : "\(row.checksum.source.prefix(12)) → \(row.checksum.target.prefix(12))",
                row.problems.isEmpty ? "ok" : "MISMATCH",
            ])
        }
        let pings = rows.reduce((0, 0)) { ($0.0 + $1.pings.source, $0.1 + $1.pings.target) }
        let flips = rows.reduce((0, 0)) { ($0.0 + $1.flips.source, $0.1 + $1.flips.target) }
        lines.append([
            "total: \(rows.count) checks", "", Self.pair(pings), Self.pair(flips), "", "alerts pending: \(Self.pair(alerts))",
        ])
        return TextTable.render(lines)
    }

    static func pair(_ counts: (Int, Int)) -> String {
        counts.0 == counts.1 ? "\(counts.0)" : "\(counts.0) → \(counts.1)"
    }
}

/// A canonical line per ping and flip (every field, in number order), hashed with SHA-256.
enum Digest {
    static func of(_ pings: [Ping], _ flips: [StoredFlip]) -> String {
        var hash = SHA256()
        for ping in pings { hash.update(data: Array(line(ping).utf8)) }
        hash.update(data: [0x1E])
        for flip in flips { hash.update(data: Array(line(flip).utf8)) }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    static func line(_ ping: Ping) -> String {
        let body = ping.body.map { Data($0.utf8).base64EncodedString() } ?? "-"
        let fields: [String] = [
            "p", String(ping.n), String(ping.time), ping.kind.rawValue, ping.method, ping.scheme, ping.remoteAddress, ping.userAgent, body,
            String(ping.bodySize), ping.exitStatus.map(String.init) ?? "-", ping.rid?.lowercasedText ?? "-", ping.duration.map(String.init) ?? "-",
        ]
        return fields.map { Data($0.utf8).base64EncodedString() }.joined(separator: " ") + "\n"
    }

    static func line(_ flip: StoredFlip) -> String {
        "f \(flip.n) \(flip.flip.time) \(flip.flip.old.rawValue) \(flip.flip.new.rawValue) \(flip.flip.reason.rawValue)\n"
    }
}
