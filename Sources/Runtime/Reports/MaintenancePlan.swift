import CheckCatalog
import Foundation
import Monitoring

/// The maintenance windows of the coming days (SPEC §14), for `kiothc plan`: each declared
/// window's periods, with what it applies to (a whole project, or one check), its reason and
/// where it is declared. A window's own overlapping or touching occurrences are one period (an
/// every-minute window of five minutes is one long period); a window lists at most
/// `periodsPerWindow` periods, and the plan says how many more it left out.
public struct MaintenancePlan: Sendable {
    public struct Entry: Sendable, Equatable, Encodable {
        public var project: String
        /// nil: the project's window, for all its checks.
        public var check: String?
        public var start: Int64
        public var end: Int64
        public var reason: String
        public var origin: String

        enum CodingKeys: String, CodingKey { case project, check, start, end, reason, origin }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(project, forKey: .project)
            try container.encode(check, forKey: .check)  // null for a project's window
            try container.encode(UTCTime.secondsZ(start), forKey: .start)
            try container.encode(UTCTime.secondsZ(end), forKey: .end)
            try container.encode(reason, forKey: .reason)
            try container.encode(origin, forKey: .origin)
        }
    }

    public static let span: Int64 = 7 * 86_400 * 1_000_000
    public static let periodsPerWindow = 20

    public let from: Int64
    public let to: Int64
    /// In start order (then project, check, origin).
    public let entries: [Entry]
    /// Periods in the span that `entries` leaves out.
    public let omitted: Int
    /// Whether the catalog declares any window at all (when not, the text plan says nothing).
    public let declared: Bool

    public init(_ catalog: Catalog, now: Int64, span: Int64 = Self.span, periodsPerWindow: Int = Self.periodsPerWindow) {
        from = now
        to = now + span
        var sources: [(project: String, check: String?, window: MaintenanceWindow)] = []
        for project in catalog.projects {
            sources += project.maintenance.map { (project: project.id, check: String?.none, window: $0) }
        }
        for check in catalog.checks {
            // A check's calendar is its project's windows, then its own.
            let inherited = catalog.project(check.id.project)?.maintenance.count ?? 0
            sources += check.maintenance.windows.dropFirst(inherited).map { (project: check.id.project, check: Optional(check.id.key), window: $0) }
        }
        declared = !sources.isEmpty
        var entries: [Entry] = []
        var omitted = 0
        for source in sources {
            let periods = Self.periods(of: source.window, from: from, to: to)
            omitted += max(0, periods.count - periodsPerWindow)
            entries += periods.prefix(periodsPerWindow).map {
                Entry(project: source.project, check: source.check, start: $0.start, end: $0.end, reason: source.window.reason, origin: source.window.origin)
            }
        }
        self.entries = entries.sorted { a, b in
            (a.start, a.project, a.check ?? "", a.origin) < (b.start, b.project, b.check ?? "", b.origin)
        }
        self.omitted = omitted
    }

    /// One window's periods overlapping `[from, to)`, its own overlapping or touching
    /// occurrences merged; read in pages, since one query returns at most
    /// `MaintenanceWindow.occurrenceLimit` occurrences (an every-second window has 604,800 a week).
    static func periods(of window: MaintenanceWindow, from: Int64, to: Int64) -> [MaintenancePeriod] {
        var merged: [MaintenancePeriod] = []
        var cursor = from
        while cursor < to {
            let page = window.periods(from: cursor, to: to)
            for period in page {
                if let last = merged.last, period.start <= last.end {
                    merged[merged.count - 1].end = max(last.end, period.end)
                } else {
                    merged.append(period)
                }
            }
            guard page.count >= MaintenanceWindow.occurrenceLimit, let last = page.last, let end = merged.last?.end else { break }
            // Occurrences after `last` that end before the merged end add nothing.
            cursor = max(last.start + 1, end)
        }
        return merged
    }

    // MARK: Output

    public func text() -> String {
        guard declared else { return "" }
        var out = "Maintenance windows in the next 7 days (\(UTCTime.readable(from)) to \(UTCTime.readable(to))):\n"
        if entries.isEmpty { out += "  none\n" }
        for entry in entries {
            let target = entry.check.map { "\(entry.project)/\($0)" } ?? "\(entry.project) (all checks)"
            let reason = entry.reason.isEmpty ? "" : "  \"\(entry.reason)\""
            out += "  \(UTCTime.readable(entry.start)) → \(UTCTime.readable(entry.end))  \(target)\(reason)  \(entry.origin)\n"
        }
        if omitted > 0 {
            out += "  … and \(omitted) more periods, not listed (at most \(Self.periodsPerWindow) per window)\n"
        }
        return out
    }
}

/// `kiothc plan --format json`: the change report's document with the maintenance listing
/// beside its keys (`maintenance`, `maintenance_omitted`); the other keys as before.
public struct PlanDocument: Encodable {
    public let change: CatalogChangeReport.Document
    public let maintenance: MaintenancePlan
    /// What the server serves, in a plan against one (`--server`); the key is absent otherwise.
    public let live: PlanBaseline.Live?

    public init(change: CatalogChangeReport.Document, maintenance: MaintenancePlan, live: PlanBaseline.Live? = nil) {
        self.change = change
        self.maintenance = maintenance
        self.live = live
    }

    enum CodingKeys: String, CodingKey { case maintenance, maintenance_omitted, live }

    /// `commit` and `branch` are null (not absent) outside a git checkout and when detached.
    struct Live: Encodable {
        var hash: String
        var commit: String?
        var branch: String?
        var applied_at: String

        enum CodingKeys: String, CodingKey { case hash, commit, branch, applied_at }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(hash, forKey: .hash)
            try container.encode(commit, forKey: .commit)
            try container.encode(branch, forKey: .branch)
            try container.encode(applied_at, forKey: .applied_at)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try change.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(maintenance.entries, forKey: .maintenance)
        try container.encode(maintenance.omitted, forKey: .maintenance_omitted)
        if let live {
            try container.encode(Live(hash: live.hash, commit: live.commit, branch: live.branch, applied_at: UTCTime.secondsZ(live.appliedAt)), forKey: .live)
        }
    }

    public func json() -> String {
        CatalogChangeReport.encode(self)
    }
}
