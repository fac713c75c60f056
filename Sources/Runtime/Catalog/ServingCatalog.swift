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
    private let byUUID: [UUID: Int]
    /// ping key -> slug -> the check with that slug, or `.several` (a conflict, answered 409).
    private let bySlug: [String: [String: SlugTarget]]
    /// The registry's UUID of every check of `catalog`.
    let uuidsByID: [CheckDefinition.ID: UUID]
    /// What each check with `depends_on:` depends on, directly or through others (SPEC §14),
    /// resolved once per load; absent for the checks (most) that depend on nothing.
    private let dependencies: [UUID: [Dependency]]

    /// A check another depends on: its UUID and, for people, `project/key`.
    public struct Dependency: Sendable, Hashable {
        public let uuid: UUID
        public let id: CheckDefinition.ID
    }

    private enum SlugTarget {
        case check(UUID)
        case several
    }

    /// - Parameters:
    ///   - uuids: the registry's UUID of every check of the catalog.
    ///   - inOrder: the same UUIDs by position in `catalog.checks`, when the caller has them so
    ///     (a first start's change lists every check, in order): not looked up a second time.
    ///   - pingKeys: every project's resolved (or generated) ping key, by project id.
    init(
        catalog: Catalog, uuids: [CheckDefinition.ID: UUID], inOrder: [UUID?]? = nil, pingKeys: [String: String],
        apiKeys: [String: ProjectAPIKeys] = [:]
    ) {
        self.catalog = catalog
        self.pingKeys = pingKeys
        self.apiKeys = apiKeys
        self.uuidsByID = uuids
        // A project's checks are together in the catalog: each project's UUIDs are taken from
        // `inOrder` or looked up on a core of their own, then the table by UUID and the projects'
        // slug tables are filled at once. Checks are read by index, a field or two each: binding
        // a definition would copy (retain and release) all of its fields, a million times at a
        // fleet's start.
        let checks = catalog.checks
        let ranges = catalog.projectRanges
        let found: [ArraySlice<UUID?>] = if let inOrder, inOrder.count == checks.count {
            ranges.map { inOrder[$0.range] }
        } else {
            parallelMap(ranges.count) { [ranges] position in ArraySlice(ranges[position].range.map { uuids[checks[$0].id] }) }
        }
        (byUUID, bySlug) = parallelPair({ [ranges] in
            var byUUID: [UUID: Int] = [:]
            byUUID.reserveCapacity(checks.count)
            for (position, project) in ranges.enumerated() {
                for (offset, uuid) in found[position].enumerated() {
                    if let uuid { byUUID[uuid] = project.range.lowerBound + offset }
                }
            }
            return byUUID
        }, { [ranges] in
            var bySlug: [String: [String: SlugTarget]] = [:]
            for (position, project) in ranges.enumerated() {
                guard let key = pingKeys[project.project] else { continue }
                var slugs = bySlug.removeValue(forKey: key) ?? Dictionary(minimumCapacity: project.range.count)
                for (offset, uuid) in found[position].enumerated() {
                    let slug = checks[project.range.lowerBound + offset].slug
                    guard let uuid, !slug.isEmpty else { continue }
                    if slugs.updateValue(.check(uuid), forKey: slug) != nil {
                        slugs[slug] = .several
                    }
                }
                bySlug[key] = slugs
            }
            return bySlug
        })
        var dependencies: [UUID: [Dependency]] = [:]
        for index in checks.indices where !checks[index].dependsOn.isEmpty {
            let id = checks[index].id
            guard let uuid = uuids[id] else { continue }
            dependencies[uuid] = catalog.dependencies(of: id).compactMap { id in uuids[id].map { Dependency(uuid: $0, id: id) } }
        }
        self.dependencies = dependencies
    }

    /// What the check depends on, directly or through others; empty for most.
    public func dependencies(of uuid: UUID) -> [Dependency] {
        dependencies[uuid] ?? []
    }

    /// Whether any check depends on another: without dependencies, flips need not look at other
    /// checks' statuses.
    public var hasDependencies: Bool { !dependencies.isEmpty }

    public func check(_ uuid: UUID) -> Entry? {
        byUUID[uuid].map { Entry(uuid: uuid, definition: catalog.checks[$0]) }
    }

    public func uuid(of id: CheckDefinition.ID) -> UUID? { uuidsByID[id] }

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
        catalog.checks.compactMap { definition in uuidsByID[definition.id].map { Entry(uuid: $0, definition: definition) } }
    }
}

extension ServingCatalog {
    /// No checks: what serves before the first load is applied.
    public static let empty = ServingCatalog(catalog: Catalog(projects: [], checks: [], files: []), uuids: [:], pingKeys: [:])
}
