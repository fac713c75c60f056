import CheckCatalog
import Foundation
import Monitoring
import PingStore
import PostgresStore

/// `kiothc pings <uuid | project/key>`: a check's newest pings from the data directory alone,
/// a removed (retired) check's too: its pings are kept under `retired/`, and the registry
/// knows its UUID and former project/key.
public struct PingsReport: Sendable {
    public let uuid: UUID
    public let identity: CheckIdentity?
    /// When the check left the configuration; nil for a check that is in it.
    let retiredAt: Int64?
    /// Earlier checks of the same project/key, removed before (other UUIDs, pings kept).
    public let earlier: [Registry.Retired]
    public let pings: [Ping]

    var isRetired: Bool { retiredAt != nil }

    /// Where a retired check's pings are kept, for the line above its table.
    var retiredPlace = "retired/"

    /// `check` is a UUID or `project/key` (looked up in the registry, so no config is needed).
    /// A project/key that is no longer configured shows its last retired UUID.
    public static func load(check: String, data: String, limit: Int) throws(StatusReport.Failure) -> PingsReport {
        let directory = DataDirectory(data)
        guard FileManager.default.fileExists(atPath: directory.path) else {
            throw StatusReport.Failure(message: "no data directory at '\(data)' (give --data, the one 'kiothc serve' uses)", report: nil)
        }
        let registry: Registry
        do {
            registry = try Registry.load(from: directory)
        } catch {
            throw StatusReport.Failure(message: "cannot read the data directory '\(data)': \(error)", report: nil)
        }
        let target = try Target(check, registry: registry, place: "'\(data)/registry.json'", option: "--data")
        do {
            let reader = StoreReader(directory)
            let pings = target.retirement == nil ? try reader.pings(of: target.uuid, limit: limit) : try reader.retiredPings(of: target.uuid, limit: limit)
            return target.report(pings)
        } catch {
            throw StatusReport.Failure(message: "cannot read the pings of \(check): \(error)", report: nil)
        }
    }

    /// The same report from a PostgreSQL store (`--store postgres://…`), whose retired checks'
    /// pings stay in their table.
    public static func load(check: String, store: PostgresStore, limit: Int) async throws(StatusReport.Failure) -> PingsReport {
        let registry: Registry
        do {
            registry = try await store.loadRegistry()
        } catch {
            throw StatusReport.Failure(message: "cannot read \(store.location): \(error)", report: nil)
        }
        let target = try Target(check, registry: registry, place: "\(store.location)", option: "--store")
        do {
            var report = target.report(try await store.pings(of: target.uuid, limit: limit))
            report.retiredPlace = "the database"
            return report
        } catch {
            throw StatusReport.Failure(message: "cannot read the pings of \(check): \(error)", report: nil)
        }
    }

    /// The check a UUID or project/key names in a registry.
    private struct Target {
        var uuid: UUID
        var identity: CheckIdentity
        var retirement: Registry.Retired?
        var earlier: [Registry.Retired]

        /// - Parameters:
        ///   - place: the registry, for messages; `option` the flag that names it.
        init(_ check: String, registry: Registry, place: String, option: String) throws(StatusReport.Failure) {
            if let parsed = UUID(uuidString: check) {
                uuid = parsed
                if let live = registry.checks.first(where: { $0.value == parsed })?.key {
                    identity = live
                } else if let retired = registry.retired.last(where: { $0.uuid == parsed }) {
                    identity = retired.identity
                    retirement = retired
                } else {
                    throw StatusReport.Failure(
                        message: "no check with UUID \(check.lowercased()) in \(place), neither configured nor removed "
                            + "(kiothc status lists the UUIDs; is \(option) the server's?)",
                        report: nil)
                }
            } else {
                let parts = check.split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2 else {
                    throw StatusReport.Failure(message: "'\(check)' is neither a UUID nor project/key (e.g. ops/db-backup)", report: nil)
                }
                let named = CheckIdentity(project: parts[0], key: parts[1])
                identity = named
                if let live = registry.uuid(for: named) {
                    uuid = live
                } else if let retired = registry.retired.filter({ $0.identity == named }).max(by: { $0.time < $1.time }) {
                    uuid = retired.uuid
                    retirement = retired
                } else {
                    throw StatusReport.Failure(
                        message: "no check '\(check)' in \(place), neither configured nor removed (has a server loaded it? is \(option) the server's?)",
                        report: nil)
                }
            }
            let (found, named) = (uuid, identity)
            earlier = registry.retired.filter { $0.identity == named && $0.uuid != found }.sorted { $0.time > $1.time }
        }

        func report(_ pings: [Ping]) -> PingsReport {
            PingsReport(uuid: uuid, identity: identity, retiredAt: retirement?.time, earlier: earlier, pings: pings)
        }
    }

    /// For a retired check, the line above its table: which check it was, since when it is gone.
    var retiredLine: String? {
        guard let retiredAt else { return nil }
        return "retired check \(identity.map { "\($0)" } ?? "?") (\(PingURLFormat.name(uuid))), removed from the configuration \(UTCTime.readable(retiredAt)); its pings are kept in \(retiredPlace)"
    }

    /// Notes for stderr: other UUIDs the same project/key had, whose pings are kept too.
    public var notes: [String] {
        earlier.map { "\($0.identity) also had UUID \(PingURLFormat.name($0.uuid)), removed \(UTCTime.readable($0.time)): kiothc pings \(PingURLFormat.name($0.uuid))" }
    }

    /// `{"uuid", "project", "key", "retired", "retired_at", "pings": [{"n", "type", "date",
    /// "method", "scheme", "remote_addr", "ua", "rid", "exitstatus", "duration", "body",
    /// "body_size"}]}`, newest first.
    public func json() -> String {
        let documents = pings.map { ping -> JSONValue in
            .object([
                ("n", .int(ping.n)),
                ("type", .string(ping.kind.rawValue)),
                ("date", .string(UTCTime.precise(ping.time))),
                ("method", .string(ping.method)),
                ("scheme", .string(ping.scheme)),
                ("remote_addr", .string(ping.remoteAddress)),
                ("ua", .string(ping.userAgent)),
                ("rid", .string(ping.rid.map { $0.uuidString.lowercased() })),
                ("exitstatus", ping.exitStatus.map { .int($0) } ?? .null),
                ("duration", ping.duration.map { .double(Double($0) / 1_000_000) } ?? .null),
                ("body", .string(ping.body)),
                ("body_size", .int(ping.bodySize)),
            ])
        }
        return JSONValue.object([
            ("uuid", .string(PingURLFormat.name(uuid))),
            ("project", .string(identity?.project)),
            ("key", .string(identity?.key)),
            ("retired", .bool(isRetired)),
            ("retired_at", .string(retiredAt.map(UTCTime.seconds))),
            ("pings", .array(documents)),
        ]).rendered(pretty: true) + "\n"
    }

    public func table() -> String {
        var rows = [["N", "KIND", "TIME", "METHOD", "FROM", "DURATION", "BODY"]]
        for ping in pings {
            var body = (ping.body ?? "").replacingOccurrences(of: "\n", with: "⏎")
            if body.count > 60 { body = String(body.prefix(59)) + "…" }
            if ping.body == nil && ping.bodySize > 0 { body = "(\(ping.bodySize) bytes, not stored)" }
            rows.append([
                String(ping.n),
                PingText.kind(of: ping),
                UTCTime.readable(ping.time),
                "\(ping.method) \(ping.scheme)",
                ping.remoteAddress.isEmpty ? "-" : ping.remoteAddress,
                ping.duration.map { PingText.duration(micros: $0) } ?? "-",
                body,
            ])
        }
        return (retiredLine.map { TextTable.sanitize($0) + "\n" } ?? "") + TextTable.render(rows)
    }
}
