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
            states: {
                // Most checks of a large fleet have no files yet: one listing of the directories
                // spares each of them two failed opens. Should listing fail, each read says why.
                let stored = try? reader.storedChecks()
                return { uuid in
                    if let stored, !stored.contains(uuid) { return .new }
                    return try reader.loadState(of: uuid)
                }
            }, appliedPath: AppliedCatalog.path(in: directory))
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
        let source = Source(registry: { () throws(Failure) -> Registry in registry }, applied: { applied }, states: { { states[$0] ?? .new } },
            appliedPath: "\(store.location) (kiothc_settings.applied_catalog)")
        return try build(config: config, source: source, project: project, tags: tags, baseURL: baseURL, now: now)
    }

    /// Where the registry, the applied catalog and the states come from.
    private struct Source {
        let registry: () throws(Failure) -> Registry
        let applied: () -> AppliedCatalog?
        /// Called once, just before the states are read: what reads one check's state.
        let states: () -> @Sendable (UUID) throws -> CheckState
        /// Where the applied catalog is, for its checks' locations.
        let appliedPath: String
    }

    private static func build(config: String, source: Source, project: String?, tags: [String], baseURL: String?, now: Int64) throws(Failure)
        -> StatusReport
    {
        let result: LoadResult
        do {
            result = try ConfigLoader.load(directory: config, drafts: .keptUntilExit)
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
        let wanted = Set(tags)
        // (All of them, without a copy of each, when nothing is filtered.)
        let selected = project == nil && wanted.isEmpty ? checks : checks.filter { check in
            if let project, check.definition.id.project != project { return false }
            return wanted.isEmpty || wanted.isSubset(of: Set(check.definition.tags))
        }
        // The states of the checks shown, read on every core: on a large fleet this is most of
        // the work after the configuration (one short read from the end of each check's files).
        let state = source.states()
        let read = Parallel.map(selected) { check -> Result<CheckState, any Error>? in
            guard let uuid = check.uuid else { return nil }
            return Result { try state(uuid) }
        }
        func failure(_ id: CheckIdentity, _ error: any Error) -> Failure {
            Failure(message: "cannot read the pings of \(id): \(error)", report: nil)
        }
        // Dependencies' states (SPEC §14), looked up by UUID; built at the first down check
        // that has dependencies, as most fleets have few.
        var uuids: [CheckIdentity: UUID?]?
        var known: [UUID: Result<CheckState, any Error>]?
        func dependencyState(_ id: CheckIdentity) throws(Failure) -> CheckState {
            if uuids == nil { uuids = Dictionary(checks.map { ($0.definition.id, $0.uuid) }, uniquingKeysWith: { first, _ in first }) }
            guard let uuid = uuids?[id] ?? nil else { return .new }
            if known == nil {
                var states: [UUID: Result<CheckState, any Error>] = [:]
                for (check, result) in zip(selected, read) {
                    if let uuid = check.uuid, let result, states[uuid] == nil { states[uuid] = result }
                }
                known = states
            }
            let outcome = known?[uuid] ?? Result { try state(uuid) }
            known?[uuid] = outcome
            do {
                return try outcome.get()
            } catch {
                throw failure(id, error)
            }
        }
        // In the checks' order, so the first unreadable file named is the one reading them one
        // by one would meet first.
        var shown: [(index: Int, state: CheckState, downDependencies: [String])] = []
        shown.reserveCapacity(selected.count)
        for (index, check) in selected.enumerated() {
            let own: CheckState
            do {
                own = try read[index]?.get() ?? .new
            } catch {
                throw failure(check.definition.id, error)
            }
            // What holds its alerts (SPEC §14): the checks it depends on that are down too.
            var downDependencies: [String] = []
            if own.status == .down, result.isValid {
                for id in result.catalog.dependencies(of: check.definition.id) where try dependencyState(id).status == .down {
                    downDependencies.append(id.description)
                }
            }
            shown.append((index, own, downDependencies))
        }
        let rows = Parallel.map(shown) { item in
            let (definition, uuid) = selected[item.index]
            let view = CheckView(
                uuid: uuid ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), definition: definition, state: item.state, now: now,
                downDependencies: item.downDependencies)
            return Row(
                view: view, uuid: uuid, pingURL: uuid.map { urls.uuidURL(PingURLFormat.name($0)) },
                slugURL: urls.slugURL(project: definition.id.project, slug: definition.slug))
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
        String(decoding: jsonBytes(), as: UTF8.self)
    }

    /// `json()` as UTF-8: a `JSONValue` tree rendered with two spaces of indentation, written
    /// without building the tree (100,000 checks make ~60 MB), `chunk` checks at a time on
    /// every core.
    public func jsonBytes() -> [UInt8] {
        jsonBytes(chunk: 2_048)
    }

    func jsonBytes(chunk: Int) -> [UInt8] {
        guard !rows.isEmpty else { return Array("{\n  \"checks\": []\n}\n".utf8) }
        let rows = self.rows
        let chunks = stride(from: 0, to: rows.count, by: max(1, chunk)).map { $0..<min($0 + max(1, chunk), rows.count) }
        let parts = Parallel.map(chunks, minimumPerWorker: 1) { range in
            var out: [UInt8] = []
            out.reserveCapacity(range.count * 720)
            for index in range { Self.appendJSON(rows[index], first: index == 0, to: &out) }
            return out
        }
        var out: [UInt8] = []
        out.reserveCapacity(parts.reduce(32) { $0 + $1.count })
        ReportBytes.append("{\n  \"checks\": [", to: &out)
        for part in parts { out.append(contentsOf: part) }
        ReportBytes.append("\n  ]\n}\n", to: &out)
        return out
    }

    /// One check's object at its place in the list, after a comma unless `first`.
    private static func appendJSON(_ row: Row, first: Bool, to out: inout [UInt8]) {
        /// `"key": ` on its own line at the check's level; a comma before all but the first.
        func field(_ key: String, first: Bool = false) {
            ReportBytes.append(first ? "\n      \"" : ",\n      \"", to: &out)
            ReportBytes.append(key, to: &out)
            ReportBytes.append("\": ", to: &out)
        }
        func strings(_ items: [String]) {
            guard !items.isEmpty else {
                ReportBytes.append("[]", to: &out)
                return
            }
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                ReportBytes.append(index == 0 ? "\n        " : ",\n        ", to: &out)
                ReportBytes.appendJSONString(item, to: &out)
            }
            ReportBytes.append("\n      ]", to: &out)
        }
        func bool(_ value: Bool) { ReportBytes.append(value ? "true" : "false", to: &out) }
        let view = row.view
        ReportBytes.append(first ? "\n    {" : ",\n    {", to: &out)
        field("project", first: true)
        ReportBytes.appendJSONString(view.definition.id.project, to: &out)
        field("key")
        ReportBytes.appendJSONString(view.definition.id.key, to: &out)
        field("name")
        ReportBytes.appendJSONString(view.definition.name, to: &out)
        field("slug")
        ReportBytes.appendJSONString(view.definition.slug, to: &out)
        field("uuid")
        ReportBytes.appendJSONString(row.uuid.map(PingURLFormat.name), to: &out)
        field("status")
        ReportBytes.appendJSONString(view.status.rawValue, to: &out)
        field("started")
        bool(view.started)
        field("last_ping")
        ReportBytes.appendJSONString(view.state.lastPing.map(UTCTime.seconds), to: &out)
        field("next_ping")
        ReportBytes.appendJSONString(view.nextPing.map(UTCTime.seconds), to: &out)
        field("n_pings")
        ReportBytes.append(String(view.state.nPings), to: &out)
        field("tags")
        strings(view.definition.tags)
        field("ping_url")
        ReportBytes.appendJSONString(row.pingURL, to: &out)
        field("slug_url")
        ReportBytes.appendJSONString(row.slugURL, to: &out)
        field("in_maintenance")
        bool(view.inMaintenance)
        field("maintenance_until")
        ReportBytes.appendJSONString(view.maintenance.map { UTCTime.seconds($0.end) }, to: &out)
        field("suppressed_by")
        strings(view.suppressedBy)
        ReportBytes.append("\n    }", to: &out)
    }

    /// Aligned columns, one check per line.
    public func table(now: Int64) -> String {
        String(decoding: tableBytes(now: now), as: UTF8.self)
    }

    /// `table(now:)` as UTF-8.
    public func tableBytes(now: Int64) -> [UInt8] {
        let header = ["PROJECT", "KEY", "NAME", "SLUG", "STATUS", "LAST PING", "NEXT PING", "PING URL"]
        // The cells of each check, made (and cleaned) on every core.
        let lines = [header.map(TextTable.sanitize)] + Parallel.map(rows) { row in
            let view = row.view
            return [
                view.definition.id.project, view.definition.id.key, view.definition.name, view.definition.slug.isEmpty ? "-" : view.definition.slug,
                view.status.rawValue + (view.started ? " (started)" : "") + Self.holds(view, now: now),
                view.state.lastPing.map { "\(UTCTime.readable($0)) (\(TimeText.relative($0, now: now)))" } ?? "never",
                view.nextPing.map { "\(UTCTime.readable($0)) (\(TimeText.relative($0, now: now)))" } ?? "-",
                row.pingURL ?? "(not loaded by a server yet)",
            ].map(TextTable.sanitize)
        }
        return TextTable.bytes(sanitized: lines)
    }
}

/// Left-aligned columns separated by two spaces; control characters shown as `?` so a name or
/// body cannot move the cursor of the terminal reading it.
enum TextTable {
    static func render(_ rows: [[String]]) -> String {
        String(decoding: bytes(rows), as: UTF8.self)
    }

    /// `render` as UTF-8, in one buffer. A column is as wide as its widest cell in characters;
    /// a cell is padded as Foundation's `padding(toLength:)` pads (in UTF-16 units), which for
    /// printable ASCII, nearly every cell, is the same count and is done here byte by byte.
    static func bytes(_ rows: [[String]]) -> [UInt8] {
        bytes(sanitized: rows.map { $0.map(sanitize) })
    }

    /// `bytes` of cells already passed through `sanitize`.
    static func bytes(sanitized clean: [[String]]) -> [UInt8] {
        var widths: [Int] = []
        var total = 0
        for row in clean {
            for (index, cell) in row.enumerated() {
                if index >= widths.count { widths.append(0) }
                let count = ReportBytes.isPrintableASCII(cell) ? cell.utf8.count : cell.count
                widths[index] = max(widths[index], count)
            }
        }
        for row in clean { total += row.count * 2 + 1 }
        total += widths.reduce(0, +) * clean.count
        var out: [UInt8] = []
        out.reserveCapacity(total)
        for (rowIndex, row) in clean.enumerated() {
            if rowIndex > 0 { out.append(UInt8(ascii: "\n")) }
            for (index, cell) in row.enumerated() {
                if index > 0 { ReportBytes.appendSpaces(2, to: &out) }
                if index == row.count - 1 {
                    ReportBytes.append(cell, to: &out)
                } else if ReportBytes.isPrintableASCII(cell) {
                    ReportBytes.append(cell, to: &out)
                    ReportBytes.appendSpaces(widths[index] - cell.utf8.count, to: &out)
                } else {
                    ReportBytes.append(cell.padding(toLength: widths[index], withPad: " ", startingAt: 0), to: &out)
                }
            }
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    static func sanitize(_ text: String) -> String {
        // Control characters are single bytes in UTF-8: most text has none and is kept as is.
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
    }
}
