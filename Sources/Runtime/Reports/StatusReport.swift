import CheckCatalog
import Foundation
import Monitoring
import PingStore
import PostgresStore

/// `kiothc status` and `kiothc pings` (SPEC §8): checks and pings read from the config and data
/// directories alone, while a server may be running on them. Nothing is written: no registry
/// entry, no generated ping key, no repaired line (`StoreReader`); a check the server has not
/// loaded yet has no UUID and shows as `new`.
public struct StatusReport: Sendable {
    public struct Row: Sendable {
        public let view: CheckView
        /// nil until a server has assigned the check a UUID.
        public let uuid: UUID?
        public let pingURL: String?
        public let slugURL: String?
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let message: String
        public let report: String?
        public var description: String { message }
    }

    /// Set when the configuration on disk does not load and the report shows the one the
    /// server last applied (`data/catalog.json`) instead: what a running server still serves.
    public struct Fallback: Sendable {
        /// The first error of the files on disk: `checks.d/x.yaml:3:5: message`.
        let firstError: String
        let errorCount: Int
        /// When the server applied the configuration shown, microseconds since the Unix epoch.
        let appliedAt: Int64

        /// For stderr, after `warning: `.
        public var warning: String {
            let more = errorCount > 1 ? " (and \(errorCount - 1) more \(errorCount == 2 ? "error" : "errors"); 'kiothc check' lists them)" : ""
            return "\(firstError)\(more) — showing the configuration last applied by the server (\(UTCTime.readable(appliedAt)))"
        }
    }

    public let rows: [Row]
    public let fallback: Fallback?

    public init(rows: [Row], fallback: Fallback? = nil) {
        self.rows = rows
        self.fallback = fallback
    }

    /// While the files under `config` are invalid, the checks come from the configuration the
    /// server last applied (`catalog.json`), and `fallback` says why; without that snapshot an
    /// invalid configuration is an error.
    /// - Parameters:
    ///   - baseURL: printed in front of ping URLs (`/ping/...` paths without it).
    public static func load(config: String, data: String, project: String?, tags: [String], baseURL: String?, now: Int64) throws(Failure) -> StatusReport {
        let directory = DataDirectory(data)
        let reader = StoreReader(directory)
        let source = Source(
            registry: { () throws(Failure) -> Registry in try Self.registry(directory, data: data) },
            // Only an applied snapshot that reads back whole is shown; otherwise the errors are.
            applied: { FileManager.default.fileExists(atPath: directory.path) ? (try? AppliedCatalog.load(from: directory)) ?? nil : nil },
            state: { try reader.loadState(of: $0) }, appliedPath: AppliedCatalog.path(in: directory))
        return try build(config: config, source: source, project: project, tags: tags, baseURL: baseURL, now: now)
    }

    /// The same report from a PostgreSQL store (`--store postgres://…`), read in a few queries.
    public static func load(config: String, store: PostgresStore, project: String?, tags: [String], baseURL: String?, now: Int64) async throws(Failure)
        -> StatusReport
    {
        let registry: Registry
        let states: [UUID: CheckState]
        let applied: AppliedCatalog?
        do {
            registry = try await store.loadRegistry()
            applied = try? await store.loadAppliedCatalog()
            states = Dictionary(try await store.states(of: Array(registry.checks.values)).map { ($0.check, $0.state) }, uniquingKeysWith: { $1 })
        } catch {
            throw Failure(message: "cannot read \(store.location): \(error)", report: nil)
        }
        let source = Source(registry: { () throws(Failure) -> Registry in registry }, applied: { applied }, state: { states[$0] ?? .new },
            appliedPath: "\(store.location) (kiothc_settings.applied_catalog)")
        return try build(config: config, source: source, project: project, tags: tags, baseURL: baseURL, now: now)
    }

    /// Where the registry, the applied catalog and the states come from.
    private struct Source {
        let registry: () throws(Failure) -> Registry
        let applied: () -> AppliedCatalog?
        let state: (UUID) throws -> CheckState
        /// Where the applied catalog is, for its checks' locations.
        let appliedPath: String
    }

    private static func build(config: String, source: Source, project: String?, tags: [String], baseURL: String?, now: Int64) throws(Failure)
        -> StatusReport
    {
        let result: LoadResult
        do {
            result = try ConfigLoader.load(directory: config)
        } catch {
            throw Failure(message: error.message, report: nil)
        }
        var checks: [(definition: CheckDefinition, uuid: UUID?)] = []
        var fallback: Fallback?
        if result.isValid {
            let registry = try source.registry()
            // A check the store has not seen yet: its pinned UUID (`uuid:`) is the one it will have.
            checks = result.catalog.checks.map { ($0, registry.uuid(for: $0.id) ?? $0.pinnedUUID) }
            if let project, result.catalog.project(project) == nil {
                throw Failure(message: "no project '\(project)' in the configuration (projects: \(result.catalog.projects.map(\.id).joined(separator: ", ")))", report: nil)
            }
        } else {
            let invalid = Failure(
                message: "the configuration is invalid ('kiothc check' shows the same problems)", report: DiagnosticReport(result, strict: false).render(.text))
            guard let applied = source.applied() else { throw invalid }
            let location = Diagnostic.Location(file: source.appliedPath, line: 0, column: 0)
            for check in applied.checks {
                guard let definition = try? CheckDefinition(id: check.identity, name: check.name, settings: check.settings, location: location) else { throw invalid }
                checks.append((definition, check.uuid))
            }
            let errors = result.diagnostics.filter { $0.severity == .error }
            let first = errors.first.map { "\($0.location.file):\($0.location.line):\($0.location.column): \($0.message)" } ?? "the configuration is invalid"
            fallback = Fallback(firstError: first, errorCount: errors.count, appliedAt: applied.appliedAt)
            if let project, !applied.checks.contains(where: { $0.project == project }) {
                let projects = Set(applied.checks.map(\.project)).sorted().joined(separator: ", ")
                throw Failure(message: "no project '\(project)' with checks in the configuration last applied (projects: \(projects))", report: nil)
            }
        }
        let urls = PingURLFormat(base: baseURL)
        let uuids = Dictionary(checks.map { ($0.definition.id, $0.uuid) }, uniquingKeysWith: { first, _ in first })
        var states: [UUID: CheckState] = [:]
        func readState(_ uuid: UUID?, of id: CheckIdentity) throws(Failure) -> CheckState {
            guard let uuid else { return .new }
            if let known = states[uuid] { return known }
            do {
                let state = try source.state(uuid)
                states[uuid] = state
                return state
            } catch {
                throw Failure(message: "cannot read the pings of \(id): \(error)", report: nil)
            }
        }
        var rows: [Row] = []
        for (definition, uuid) in checks {
            if let project, definition.id.project != project { continue }
            if !Set(tags).isSubset(of: Set(definition.tags)) { continue }
            let state = try readState(uuid, of: definition.id)
            // What holds its alerts (SPEC §14): the checks it depends on that are down too.
            var downDependencies: [String] = []
            if state.status == .down, result.isValid {
                for id in result.catalog.dependencies(of: definition.id) where try readState(uuids[id] ?? nil, of: id).status == .down {
                    downDependencies.append(id.description)
                }
            }
            let view = CheckView(
                uuid: uuid ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), definition: definition, state: state, now: now,
                downDependencies: downDependencies)
            rows.append(Row(
                view: view, uuid: uuid, pingURL: uuid.map { urls.uuidURL(PingURLFormat.name($0)) },
                slugURL: urls.slugURL(project: definition.id.project, slug: definition.slug)))
        }
        return StatusReport(rows: rows, fallback: fallback)
    }

    private static func registry(_ directory: DataDirectory, data: String) throws(Failure) -> Registry {
        guard FileManager.default.fileExists(atPath: directory.path) else {
            throw Failure(message: "no data directory at '\(data)' (give --data, the one 'kiothc serve' uses)", report: nil)
        }
        do {
            return try Registry.load(from: directory)
        } catch {
            throw Failure(message: "cannot read the data directory '\(data)': \(error)", report: nil)
        }
    }

    /// ` (maintenance until 03:00)`, ` (alerts held: ops/db is down)`: what holds the check's
    /// alerts (SPEC §14), after its status.
    static func holds(_ view: CheckView, now: Int64) -> String {
        var parts: [String] = []
        if let period = view.maintenance { parts.append("maintenance until \(UTCTime.readable(period.end)), \(TimeText.relative(period.end, now: now))") }
        if !view.suppressedBy.isEmpty {
            parts.append("alerts held: \(view.suppressedBy.joined(separator: ", ")) \(view.suppressedBy.count == 1 ? "is" : "are") down")
        }
        return parts.isEmpty ? "" : " (\(parts.joined(separator: "; ")))"
    }

    /// The JSON of SPEC §8: `{"checks": [{"project", "key", "name", "slug", "uuid", "status",
    /// "started", "last_ping", "next_ping", "n_pings", "tags", "ping_url", "slug_url",
    /// "in_maintenance", "maintenance_until", "suppressed_by"}]}`.
    public func json() -> String {
        let checks = rows.map { row -> JSONValue in
            let view = row.view
            return .object([
                ("project", .string(view.definition.id.project)),
                ("key", .string(view.definition.id.key)),
                ("name", .string(view.definition.name)),
                ("slug", .string(view.definition.slug)),
                ("uuid", .string(row.uuid.map(PingURLFormat.name))),
                ("status", .string(view.status.rawValue)),
                ("started", .bool(view.started)),
                ("last_ping", .string(view.state.lastPing.map(UTCTime.seconds))),
                ("next_ping", .string(view.nextPing.map(UTCTime.seconds))),
                ("n_pings", .int(view.state.nPings)),
                ("tags", .array(view.definition.tags.map { .string($0) })),
                ("ping_url", .string(row.pingURL)),
                ("slug_url", .string(row.slugURL)),
                ("in_maintenance", .bool(view.inMaintenance)),
                ("maintenance_until", .string(view.maintenance.map { UTCTime.seconds($0.end) })),
                ("suppressed_by", .array(view.suppressedBy.map { .string($0) })),
            ])
        }
        return JSONValue.object([("checks", .array(checks))]).rendered(pretty: true) + "\n"
    }

    /// Aligned columns, one check per line.
    public func table(now: Int64) -> String {
        var lines = [["PROJECT", "KEY", "NAME", "SLUG", "STATUS", "LAST PING", "NEXT PING", "PING URL"]]
        for row in rows {
            let view = row.view
            lines.append([
                view.definition.id.project, view.definition.id.key, view.definition.name, view.definition.slug.isEmpty ? "-" : view.definition.slug,
                view.status.rawValue + (view.started ? " (started)" : "") + Self.holds(view, now: now),
                view.state.lastPing.map { "\(UTCTime.readable($0)) (\(TimeText.relative($0, now: now)))" } ?? "never",
                view.nextPing.map { "\(UTCTime.readable($0)) (\(TimeText.relative($0, now: now)))" } ?? "-",
                row.pingURL ?? "(not loaded by a server yet)",
            ])
        }
        return TextTable.render(lines)
    }
}

/// Left-aligned columns separated by two spaces; control characters shown as `?` so a name or
/// body cannot move the cursor of the terminal reading it.
enum TextTable {
    static func render(_ rows: [[String]]) -> String {
        let clean = rows.map { $0.map(sanitize) }
        var widths: [Int] = []
        for row in clean {
            for (index, cell) in row.enumerated() {
                if index >= widths.count { widths.append(0) }
                widths[index] = max(widths[index], cell.count)
            }
        }
        return clean.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    static func sanitize(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
    }
}
