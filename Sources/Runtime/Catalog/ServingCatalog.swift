import BlockingWork
import CheckCatalog
import Foundation
import Monitoring

/// The catalog as the ping path reads it: every check by UUID and by (ping key, slug), built
/// once per (re)load and swapped whole, so a ping sees one catalog, never a mix.
public final class ServingCatalog: Sendable {
    public struct Entry: Sendable {
        public let uuid: UUID
        public let definition: CheckDefinition
    }

    public enum SlugLookup {
        case found(Entry)
        case notFound
        case ambiguous
    }

    public let catalog: Catalog
    let pingKeys: [String: String]
    /// Every project's resolved API keys, for the management API, dashboard and `/metrics`.
    let apiKeys: [String: ProjectAPIKeys]
    /// Each check's position in `catalog.checks`: a definition is held once, not copied into
    /// every index (copies cost about 0.8 KB per check, measured with heaptrack).
    private let byUUID: UUIDIndex
    /// ping key -> slug -> the check with that slug, or `.several` (a conflict, answered 409).
    private let bySlug: [String: [String: SlugTarget]]
    /// The registry's UUID of each check of `catalog`, by position (nil for one it lacks).
    private let uuidsInOrder: [UUID?]
    /// What each check with `depends_on:` depends on, directly or through others (SPEC §14),
    /// resolved once per load; absent for the checks (most) that depend on nothing.
    private let dependencies: [UUID: [Dependency]]

    /// A check another depends on: its UUID and, for people, `project/key`.
    public struct Dependency: Sendable, Hashable {
        public let uuid: UUID
        public let id: CheckDefinition.ID
    }

    private enum SlugTarget: Sendable {
        case check(UUID)
        case several
    }

    /// - Parameters:
    ///   - uuids: the registry's UUID of every check of the catalog.
    ///   - pingKeys: every project's resolved (or generated) ping key, by project id.
    convenience init(catalog: Catalog, uuids: [CheckDefinition.ID: UUID], pingKeys: [String: String], apiKeys: [String: ProjectAPIKeys] = [:]) {
        let checks = catalog.checks
        let found = mapInParts(checks.count) { uuids[checks[$0].id] }
        self.init(catalog: catalog, uuidsInOrder: found, pingKeys: pingKeys, apiKeys: apiKeys)
    }

    /// - Parameters:
    ///   - uuidsInOrder: the registry's UUID of each check, by position in `catalog.checks`.
    ///   - pingKeys: every project's resolved (or generated) ping key, by project id.
    init(catalog: Catalog, uuidsInOrder: [UUID?], pingKeys: [String: String], apiKeys: [String: ProjectAPIKeys] = [:]) {
        precondition(uuidsInOrder.count == catalog.checks.count, "a UUID or nil for each check of the catalog")
        self.catalog = catalog
        self.pingKeys = pingKeys
        self.apiKeys = apiKeys
        self.uuidsInOrder = uuidsInOrder
        // A project's checks are together in the catalog: the table by UUID and each project's
        // slug table and dependencies are independent pieces, made on every core at once.
        // Checks are read by index, a field or two each: binding a definition would copy
        // (retain and release) all of its fields, a million times at a fleet's start.
        let ranges = catalog.projectRanges
        let pieces = parallelMap(1 + ranges.count) { piece -> Piece in
            if piece == 0 { return .uuids(Self.index(uuidsInOrder)) }
            let project = ranges[piece - 1]
            return .project(
                key: pingKeys[project.project], slugs: Self.slugs(catalog, project.range, uuidsInOrder),
                dependencies: Self.dependencies(catalog, project.range, uuidsInOrder))
        }
        var byUUID = UUIDIndex()
        var bySlug: [String: [String: SlugTarget]] = [:]
        var dependencies: [UUID: [Dependency]] = [:]
        for piece in pieces {
            switch piece {
            case .uuids(let index):
                byUUID = index
            case .project(let key, let slugs, let projectDependencies):
                if dependencies.isEmpty { dependencies = projectDependencies } else { dependencies.merge(projectDependencies) { first, _ in first } }
                guard let key else { continue }
                // (Projects that share a ping key share one slug table.)
                if bySlug[key] == nil { bySlug[key] = slugs } else { bySlug[key]!.merge(slugs) { _, _ in .several } }
            }
        }
        self.byUUID = byUUID
        self.bySlug = bySlug
        self.dependencies = dependencies
    }

    /// One piece of the tables, made on a core of its own.
    private enum Piece: Sendable {
        case uuids(UUIDIndex)
        case project(key: String?, slugs: [String: SlugTarget], dependencies: [UUID: [Dependency]])
    }

    private static func index(_ uuidsInOrder: [UUID?]) -> UUIDIndex {
        var byUUID = UUIDIndex(minimumCapacity: uuidsInOrder.count)
        for (position, uuid) in uuidsInOrder.enumerated() {
            if let uuid { byUUID.insert(uuid, at: position) }
        }
        return byUUID
    }

    /// The slug table of the checks at `range` (one project's): `.several` for a slug two share.
    private static func slugs(_ catalog: Catalog, _ range: Range<Int>, _ uuidsInOrder: [UUID?]) -> [String: SlugTarget] {
        let checks = catalog.checks
        var slugs = [String: SlugTarget](minimumCapacity: range.count)
        for index in range {
            let slug = checks[index].slug
            guard let uuid = uuidsInOrder[index], !slug.isEmpty else { continue }
            if slugs.updateValue(.check(uuid), forKey: slug) != nil {
                slugs[slug] = .several
            }
        }
        return slugs
    }

    /// What each check at `range` with `depends_on:` depends on.
    private static func dependencies(_ catalog: Catalog, _ range: Range<Int>, _ uuidsInOrder: [UUID?]) -> [UUID: [Dependency]] {
        let checks = catalog.checks
        var dependencies: [UUID: [Dependency]] = [:]
        for index in range where !checks[index].dependsOn.isEmpty {
            guard let uuid = uuidsInOrder[index] else { continue }
            dependencies[uuid] = catalog.dependencies(of: checks[index].id).compactMap { id in
                catalog.position(of: id).flatMap { uuidsInOrder[$0] }.map { Dependency(uuid: $0, id: id) }
            }
        }
        return dependencies
    }

    /// What the check depends on, directly or through others; empty for most.
    public func dependencies(of uuid: UUID) -> [Dependency] {
        dependencies[uuid] ?? []
    }

    /// Whether any check depends on another: without dependencies, flips need not look at other
    /// checks' statuses.
    public var hasDependencies: Bool { !dependencies.isEmpty }

    public func check(_ uuid: UUID) -> Entry? {
        byUUID.position(of: uuid).map { Entry(uuid: uuid, definition: catalog.checks[$0]) }
    }

    public func uuid(of id: CheckDefinition.ID) -> UUID? { catalog.position(of: id).flatMap { uuidsInOrder[$0] } }

    /// The UUID of every check that has one, in catalog order.
    var uuids: some Sequence<UUID> { uuidsInOrder.lazy.compactMap { $0 } }

    public func check(pingKey: Substring, slug: Substring) -> SlugLookup {
        switch bySlug[String(pingKey)]?[String(slug)] {
        case nil: return .notFound
        case .several: return .ambiguous
        case .check(let uuid): return check(uuid).map { .found($0) } ?? .notFound
        }
    }

    public var count: Int { byUUID.count }
    /// Every check that has a UUID, in catalog order.
    public var entries: [Entry] {
        catalog.checks.indices.compactMap { index in uuidsInOrder[index].map { Entry(uuid: $0, definition: catalog.checks[index]) } }
    }
}

extension ServingCatalog {
    /// No checks: what serves before the first load is applied.
    public static let empty = ServingCatalog(catalog: Catalog(projects: [], checks: [], files: []), uuids: [:], pingKeys: [:])
}
