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

    private let checkIndex: [CheckDefinition.ID: Int]
    private let projectIndex: [String: Int]

    public init(projects: [Project], checks: [CheckDefinition], files: [String]) {
        self.projects = projects.sorted { $0.id < $1.id }
        self.checks = checks.sorted { $0.id < $1.id }
        self.files = files
        var checkIndex: [CheckDefinition.ID: Int] = [:]
        checkIndex.reserveCapacity(self.checks.count)
        for index in self.checks.indices where checkIndex[self.checks[index].id] == nil {
            checkIndex[self.checks[index].id] = index
        }
        self.checkIndex = checkIndex
        self.projectIndex = Dictionary(self.projects.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func check(_ id: CheckDefinition.ID) -> CheckDefinition? {
        checkIndex[id].map { checks[$0] }
    }

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
