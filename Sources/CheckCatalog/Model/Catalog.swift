import BlockingWork
import Monitoring

/// A complete, validated configuration: every project and check, immutable. The server swaps
/// whole catalogs on reload; nothing in one changes after it is built.
public struct Catalog: Sendable {
    /// Projects in id order; `default` is included when it is declared or holds checks.
    public let projects: [Project]
    /// Checks in (project, key) order.
    public let checks: [CheckDefinition]
    /// The files the catalog was read from, in the order they were read.
    public let files: [String]
    /// Whether no two checks of a project share a slug, when the builder knows (nil: not
    /// known): a reload then need not look for slug conflicts among a fleet's checks.
    public let slugsAreUnique: Bool?

    /// Each project's checks: they are together in `checks`, in project order.
    public let projectRanges: [(project: String, range: Range<Int>)]
    /// Project -> key -> position in `checks`.
    private let checkIndex: [String: [String: Int]]
    /// How many identities `checkIndex` holds.
    private let indexed: Int
    private let projectIndex: [String: Int]

    public init(projects: [Project], checks: consuming [CheckDefinition], files: [String], slugsAreUnique: Bool? = nil) {
        self.slugsAreUnique = slugsAreUnique
        self.projects = projects.sorted { $0.id < $1.id }
        let ordered = Self.identityOrder(checks)
        self.checks = ordered
        self.files = files
        // A project's checks are together in identity order: each project's table is filled
        // from its range on a core of its own, hashing only keys.
        var ranges: [(project: String, range: Range<Int>)] = []
        var start = 0
        for index in ordered.indices.dropFirst() where ordered[index].id.project != ordered[start].id.project {
            ranges.append((ordered[start].id.project, start..<index))
            start = index
        }
        if !ordered.isEmpty { ranges.append((ordered[start].id.project, start..<ordered.count)) }
        self.projectRanges = ranges
        let tables = parallelMap(ranges.count) { [ranges] position in
            var table = [String: Int](minimumCapacity: ranges[position].range.count)
            // The first of a key keeps it; one hash per key, as duplicates are rare.
            for index in ranges[position].range {
                if let first = table.updateValue(index, forKey: ordered[index].id.key) { table[ordered[index].id.key] = first }
            }
            return table
        }
        self.checkIndex = Dictionary(zip(ranges.map(\.project), tables), uniquingKeysWith: { first, _ in first })
        self.indexed = tables.reduce(0) { $0 + $1.count }
        self.projectIndex = Dictionary(self.projects.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// `checks` sorted by (project, key), ties in their given order. Checks arrive a file at a
    /// time, each file's usually of one project and in key order, so they are grouped by project
    /// and only a project's out-of-order keys are sorted; then each check is moved once, in
    /// place: a million checks are neither compared a million times over nor copied.
    static func identityOrder(_ checks: consuming [CheckDefinition]) -> [CheckDefinition] {
        var checks = checks
        var byProject: [String: [Int]] = [:]
        var project = ""
        var run: [Int] = []
        for index in checks.indices {
            if checks[index].id.project != project {
                if !run.isEmpty { byProject[project, default: []] += run }
                project = checks[index].id.project
                run = byProject.removeValue(forKey: project) ?? []
            }
            run.append(index)
        }
        if !run.isEmpty { byProject[project, default: []] += run }
        var order: [Int] = []
        order.reserveCapacity(checks.count)
        for project in byProject.keys.sorted() {
            var indices = byProject[project] ?? []
            let inOrder = indices.indices.dropFirst().allSatisfy { !(checks[indices[$0]].id.key < checks[indices[$0 - 1]].id.key) }
            if !inOrder {
                indices.sort { a, b in checks[a].id.key == checks[b].id.key ? a < b : checks[a].id.key < checks[b].id.key }
            }
            order += indices
        }
        // Position p takes the check at order[p]: each cycle of the permutation is walked once,
        // every swap putting one check in its place, so a million take a million swaps at most.
        // (Swapped through the buffer: a move of the bytes, where the array's swapAt would copy
        // each check and retain everything in it.)
        var placed = [Bool](repeating: false, count: order.count)
        checks.withUnsafeMutableBufferPointer { buffer in
            for start in order.indices where !placed[start] {
                var position = start
                placed[position] = true
                while order[position] != start {
                    buffer.swapAt(position, order[position])
                    position = order[position]
                    placed[position] = true
                }
            }
        }
        return checks
    }

    public func check(_ id: CheckDefinition.ID) -> CheckDefinition? {
        position(of: id).map { checks[$0] }
    }

    /// Where the check with identity `id` (the first, if given twice) is in `checks`.
    public func position(of id: CheckDefinition.ID) -> Int? {
        checkIndex[id.project]?[id.key]
    }

    /// Every check's identity, in `checks`' order, read on every core (a first start asks for
    /// a million, and each check is a cache line of its own).
    public var identities: [CheckDefinition.ID] {
        let checks = checks
        return mapInParts(checks.count) { checks[$0].id }
    }

    /// No identity appears twice (a built catalog's never does; the builder reports duplicates).
    public var identitiesAreUnique: Bool { indexed == checks.count }

    public func project(_ id: String) -> Project? {
        projectIndex[id].map { projects[$0] }
    }

    /// Every check `id` depends on, directly or through others (SPEC §14): its own `depends_on`
    /// first, in their order, then theirs, breadth first; no duplicates, never `id` itself, and
    /// finite even if the checks form a cycle (a loaded catalog has none; a built one may).
    public func dependencies(of id: CheckIdentity) -> [CheckIdentity] {
        var result: [CheckIdentity] = []
        var seen: Set<CheckIdentity> = [id]
        var index = 0
        var queue = check(id)?.dependsOn ?? []
        while index < queue.count {
            let next = queue[index]
            index += 1
            guard seen.insert(next).inserted else { continue }
            result.append(next)
            queue += check(next)?.dependsOn ?? []
        }
        return result
    }

    /// The checks of one project whose slug is `slug` (several: a conflict).
    public func checks(inProject project: String, slug: String) -> [CheckDefinition] {
        checks.filter { $0.id.project == project && $0.slug == slug }
    }
}
