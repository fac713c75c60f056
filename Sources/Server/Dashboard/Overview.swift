import CheckCatalog
import Foundation
import Monitoring
import Runtime
import Synchronization

/// One page of the overview (issue 26): the viewer's checks filtered, counted, ordered and cut
/// into pages on the server, so a fleet of 100,000 checks answers with one small page.
///
/// Every visible check is looked at once per request, for its status only (no schedule
/// lookup); full views (`CheckView`, with the next expected ping) are made for the page's rows.
struct Overview {
    static let pageSize = 100

    /// Checks the viewer may see.
    let visible: Int
    /// Per status, the checks matching the project, tag and search filters (the status filter
    /// left out, so each count says what choosing that status shows). Exact, over every page.
    let counts: [CheckView.Status: Int]
    /// Checks matching every filter, over all pages.
    let matching: Int
    /// The page shown (1-based; the last one when the URL asked for a page past it) and how
    /// many there are (at least 1).
    let page: Int
    let pages: Int
    /// The page's checks, in order.
    let rows: [CheckView]
    /// What the filters matched nothing of, and a page asked past the last: for the page.
    let notes: [String]

    /// One visible check that matches the filters, before paging.
    private struct Candidate {
        let index: Int
        let uuid: UUID
        let status: CheckView.Status
        let lastPing: Int64?
    }

    /// The order of statuses when problems come first.
    static let statusOrder: [CheckView.Status] = [.down, .grace, .new, .up, .paused]

    /// - Parameter index: what is kept per catalog snapshot (the dashboard's); a new one by default.
    init(_ snapshot: ServingCatalog, index kept: OverviewIndex = OverviewIndex(), viewer: Viewer, states: CheckStates, now: Int64, query: OverviewQuery) {
        let definitions = snapshot.catalog.checks
        let checks = kept.checks(of: snapshot)
        let uuids = checks.uuids
        let search = query.search.isEmpty ? nil : CaseInsensitiveSearch(query.search)
        var visible = 0
        var counts: [CheckView.Status: Int] = [:]
        var candidates: [Candidate] = []
        // Whether any visible check is in each project, has each tag the URL names.
        var projectSeen = [Bool](repeating: false, count: query.projects.count)
        var tagSeen = [Bool](repeating: false, count: query.tags.count)
        // Through the buffer, not `for definition in`: each definition is read in place (a copy
        // of each, its strings and arrays retained, was about a tenth of the time with 100,000
        // checks; perf, release build).
        definitions.withUnsafeBufferPointer { definitions in
            for index in definitions.indices {
                guard let uuid = uuids[index], viewer.canSee(definitions[index].id.project) else { continue }
                visible += 1
                if !query.projects.isEmpty {
                    guard let found = query.projects.firstIndex(of: definitions[index].id.project) else { continue }
                    projectSeen[found] = true
                }
                if !query.tags.isEmpty {
                    var all = true
                    for (n, tag) in query.tags.enumerated() {
                        if definitions[index].tags.contains(tag) { tagSeen[n] = true } else { all = false }
                    }
                    guard all else { continue }
                }
                if let search,
                    !(search.found(in: definitions[index].name) || search.found(in: definitions[index].slug)
                        || search.found(in: definitions[index].id.key))
                {
                    continue
                }
                let state = states.state(of: uuid)
                // The domain's status function under the check's rules, as `CheckView` computes
                // it (the rules built once per catalog: no time zone looked up per check).
                let status = CheckView.Status(rawValue: state.liveStatus(under: checks.rules[index], at: now).status.rawValue) ?? .new
                counts[status, default: 0] += 1
                if !query.statuses.isEmpty && !query.statuses.contains(status) { continue }
                candidates.append(Candidate(index: index, uuid: uuid, status: status, lastPing: state.lastPing))
            }
        }
        var notes: [String] = []
        for (n, project) in query.projects.enumerated() where !projectSeen[n] {
            notes.append("No check you can see is in a project '\(project)'.")
        }
        for (n, tag) in query.tags.enumerated() where !tagSeen[n] {
            notes.append("No check you can see has the tag '\(tag)'.")
        }
        let ordered = Self.ordered(candidates, by: query.sort, nameRanks: query.sort == .name ? kept.nameRanks(of: snapshot) : [])
        let pages = max(1, (ordered.count + Self.pageSize - 1) / Self.pageSize)
        var page = query.page
        if page > pages {
            notes.append("There is no page \(page): \(ordered.count) matching check\(ordered.count == 1 ? "" : "s") fill \(pages) page\(pages == 1 ? "" : "s"); this is the last.")
            page = pages
        }
        let start = (page - 1) * Self.pageSize
        let slice = ordered[min(start, ordered.count)..<min(start + Self.pageSize, ordered.count)]
        self.visible = visible
        self.counts = counts
        self.matching = ordered.count
        self.page = page
        self.pages = pages
        self.rows = slice.compactMap { candidate in snapshot.check(candidate.uuid).map { snapshot.view(of: $0, states: states, now: now) } }
        self.notes = notes
    }

    /// `candidates` (in catalog order: project, then key) in the order `sort` names; ties keep
    /// catalog order.
    /// - Parameter nameRanks: for `.name`, `OverviewIndex.nameRanks(of:)`.
    private static func ordered(_ candidates: [Candidate], by sort: OverviewQuery.Sort, nameRanks: [Int32]) -> [Candidate] {
        switch sort {
        case .status:
            // A bucket per status, filled in catalog order: no comparisons, stable.
            var buckets = [[Candidate]](repeating: [], count: statusOrder.count)
            for candidate in candidates {
                buckets[statusOrder.firstIndex(of: candidate.status) ?? statusOrder.count - 1].append(candidate)
            }
            return buckets.flatMap { $0 }
        case .name:
            return candidates.sorted { nameRanks[$0.index] < nameRanks[$1.index] }
        case .lastPing:
            return candidates.sorted { a, b in
                switch (a.lastPing, b.lastPing) {
                case (let x?, let y?): x != y ? x > y : a.index < b.index
                case (.some, nil): true
                case (nil, .some): false
                case (nil, nil): a.index < b.index
                }
            }
        }
    }
}

/// Each check's UUID and status rules by its position in a catalog snapshot, kept for the
/// snapshot serving now (a reload swaps in a new one, and the next request indexes that): the
/// overview reads every visible check's status at each request, and with 100,000 checks looking
/// UUIDs up by `project/key` was ~15 % of its time, building rules (a time zone looked up by
/// name) for every check ~5 % (perf, release build). Costs about 100 bytes a check while kept.
final class OverviewIndex: Sendable {
    struct Checks: Sendable {
        /// nil: the check has no UUID (not applied to the registry yet).
        let uuids: [UUID?]
        let rules: [CheckRules]

        init(_ snapshot: ServingCatalog) {
            uuids = snapshot.catalog.checks.map { snapshot.uuid(of: $0.id) }
            rules = snapshot.catalog.checks.map(CheckRules.init)
        }
    }

    /// What was built for one snapshot. The snapshot is held weakly: after a reload the old
    /// catalog must not stay in memory until someone opens the overview again.
    private struct Kept<Value> {
        weak var snapshot: ServingCatalog?
        let value: Value
    }

    private let current = Mutex<Kept<Checks>?>(nil)
    private let names = Mutex<Kept<[Int32]>?>(nil)
    private let zones = Mutex<Kept<[String]>?>(nil)

    func checks(of snapshot: ServingCatalog) -> Checks {
        if let cached = current.withLock({ $0 }), cached.snapshot === snapshot { return cached.value }
        let checks = Checks(snapshot)
        current.withLock { $0 = Kept(snapshot: snapshot, value: checks) }
        return checks
    }

    /// The time zones the snapshot's checks are scheduled in (their `tz`), sorted, for the
    /// time zone selector: a fleet names a few dozen zones a hundred thousand times.
    func zones(of snapshot: ServingCatalog) -> [String] {
        if let cached = zones.withLock({ $0 }), cached.snapshot === snapshot { return cached.value }
        var names = Set<String>()
        for check in snapshot.catalog.checks { names.insert(check.tz) }
        let sorted = names.sorted()
        zones.withLock { $0 = Kept(snapshot: snapshot, value: sorted) }
        return sorted
    }

    /// Each check's place in name order (case-insensitive; ties in catalog order), by
    /// position: built at the first `sort=name` of a snapshot, so each request sorts integers
    /// (lower-casing and comparing 100,000 names took ~40 ms a request).
    func nameRanks(of snapshot: ServingCatalog) -> [Int32] {
        if let cached = names.withLock({ $0 }), cached.snapshot === snapshot { return cached.value }
        let keys = snapshot.catalog.checks.map { $0.name.lowercased() }
        var ranks = [Int32](repeating: 0, count: keys.count)
        for (rank, index) in keys.indices.sorted(by: { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 }).enumerated() {
            ranks[index] = Int32(rank)
        }
        names.withLock { $0 = Kept(snapshot: snapshot, value: ranks) }
        return ranks
    }
}

/// `q`: a case-insensitive substring search. ASCII letters fold byte by byte over UTF-8 (fast
/// enough for 100,000 checks' names, slugs and keys per request); a search with other letters
/// folds both sides with `lowercased()`.
struct CaseInsensitiveSearch {
    private let needle: [UInt8]
    private let lowered: String
    private let ascii: Bool

    init(_ text: String) {
        lowered = text.lowercased()
        needle = Array(lowered.utf8)
        ascii = text.utf8.allSatisfy { $0 < 0x80 }
    }

    func found(in haystack: String) -> Bool {
        guard !needle.isEmpty else { return true }
        guard ascii else { return haystack.lowercased().contains(lowered) }
        var haystack = haystack
        return haystack.withUTF8 { bytes in
            guard bytes.count >= needle.count else { return false }
            let first = needle[0]
            var start = 0
            let last = bytes.count - needle.count
            while start <= last {
                if Self.fold(bytes[start]) == first {
                    var matched = 1
                    while matched < needle.count && Self.fold(bytes[start + matched]) == needle[matched] { matched += 1 }
                    if matched == needle.count { return true }
                }
                start += 1
            }
            return false
        }
    }

    @inline(__always)
    private static func fold(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
}
