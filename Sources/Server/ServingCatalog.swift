import CheckCatalog
import Foundation
import Monitoring

/// The catalog as the ping path reads it: every check by UUID and by (ping key, slug), built
/// once per (re)load and swapped whole, so a ping sees one catalog, never a mix.
final class ServingCatalog: Sendable {
    struct Entry: Sendable {
        let uuid: UUID
        let definition: CheckDefinition
    }

    enum SlugLookup {
        case found(Entry)
        case notFound
        case ambiguous
    }

    let catalog: Catalog
    let pingKeys: [String: String]
    /// Every project's resolved API keys, for the management API, dashboard and `/metrics`.
    let apiKeys: [String: ProjectAPIKeys]
    private let byUUID: [UUID: Entry]
    /// ping key -> slug -> checks with that slug (several: a conflict, answered 409).
    private let bySlug: [String: [String: [Entry]]]

    /// - Parameters:
    ///   - uuids: the registry's UUID of every check of the catalog.
    ///   - pingKeys: every project's resolved (or generated) ping key, by project id.
    init(catalog: Catalog, uuids: [CheckDefinition.ID: UUID], pingKeys: [String: String], apiKeys: [String: ProjectAPIKeys] = [:]) {
        self.catalog = catalog
        self.pingKeys = pingKeys
        self.apiKeys = apiKeys
        self.uuids = uuids
        var byUUID: [UUID: Entry] = [:]
        var bySlug: [String: [String: [Entry]]] = [:]
        byUUID.reserveCapacity(catalog.checks.count)
        for definition in catalog.checks {
            guard let uuid = uuids[definition.id] else { continue }
            let entry = Entry(uuid: uuid, definition: definition)
            byUUID[uuid] = entry
            if let key = pingKeys[definition.id.project], !definition.slug.isEmpty {
                bySlug[key, default: [:]][definition.slug, default: []].append(entry)
            }
        }
        self.byUUID = byUUID
        self.bySlug = bySlug
    }

    func check(_ uuid: UUID) -> Entry? { byUUID[uuid] }

    private let uuids: [CheckDefinition.ID: UUID]

    func uuid(of id: CheckDefinition.ID) -> UUID? { uuids[id] }

    func check(pingKey: Substring, slug: Substring) -> SlugLookup {
        guard let slugs = bySlug[String(pingKey)], let entries = slugs[String(slug)] else { return .notFound }
        return entries.count == 1 ? .found(entries[0]) : .ambiguous
    }

    var count: Int { byUUID.count }
    var entries: Dictionary<UUID, Entry>.Values { byUUID.values }
}

extension ServingCatalog {
    /// No checks: what serves before the first load is applied.
    static let empty = ServingCatalog(catalog: Catalog(projects: [], checks: [], files: []), uuids: [:], pingKeys: [:])
}
