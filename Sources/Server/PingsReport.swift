import CheckCatalog
import Foundation
import Monitoring
import PingStore

/// `kiothc pings <uuid | project/key>`: a check's newest pings from the data directory alone.
public struct PingsReport: Sendable {
    public let uuid: UUID
    public let identity: CheckIdentity?
    public let pings: [Ping]

    /// `check` is a UUID or `project/key` (looked up in the registry, so no config is needed).
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
        let uuid: UUID
        var identity: CheckIdentity?
        if let parsed = UUID(uuidString: check) {
            uuid = parsed
            identity = registry.checks.first { $0.value == parsed }?.key
            if identity == nil && !registry.isRetired(parsed) {
                throw StatusReport.Failure(message: "no check with UUID \(check.lowercased()) in '\(data)/registry.json'", report: nil)
            }
        } else {
            let parts = check.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw StatusReport.Failure(message: "'\(check)' is neither a UUID nor project/key (e.g. ops/db-backup)", report: nil)
            }
            let wanted = CheckIdentity(project: parts[0], key: parts[1])
            guard let found = registry.uuid(for: wanted) else {
                throw StatusReport.Failure(message: "no check '\(check)' in '\(data)/registry.json' (has a server loaded it?)", report: nil)
            }
            uuid = found
            identity = wanted
        }
        do {
            return PingsReport(uuid: uuid, identity: identity, pings: try StoreReader(directory).pings(of: uuid, limit: limit))
        } catch {
            throw StatusReport.Failure(message: "cannot read the pings of \(check): \(error)", report: nil)
        }
    }

    /// `{"uuid", "project", "key", "pings": [{"n", "type", "date", "method", "scheme",
    /// "remote_addr", "ua", "rid", "exitstatus", "duration", "body", "body_size"}]}`, newest first.
    public func json() -> String {
        let documents = pings.map { ping -> JSONValue in
            .object([
                ("n", .int(ping.n)),
                ("type", .string(ping.kind.rawValue)),
                ("date", .string(ISOTime.precise(ping.time))),
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
                ping.kind.rawValue + (ping.exitStatus.map { $0 == 0 ? "" : " (exit \($0))" } ?? ""),
                ISOTime.readable(ping.time),
                "\(ping.method) \(ping.scheme)",
                ping.remoteAddress.isEmpty ? "-" : ping.remoteAddress,
                ping.duration.map { String(format: "%.3f s", Double($0) / 1_000_000) } ?? "-",
                body,
            ])
        }
        return TextTable.render(rows)
    }
}
