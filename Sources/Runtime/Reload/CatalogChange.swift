import BlockingWork
import CheckCatalog
import Foundation
import Monitoring
import PingStore

/// What loading a catalog does to the one applied before it (SPEC §1.3, §5, §8 `plan`): checks
/// created and deleted, renamed (same identity, new name and slug), settings changed, and slug
/// conflicts that did not exist before. Computed the same way by the reloader, at start and by
/// `kiothc plan`; delivered to `CatalogChangeFeed` subscribers after every successful load.
public struct CatalogChange: Sendable {
    struct Added: Sendable {
        var id: CheckDefinition.ID
        /// nil in a plan: the server assigns it when it loads the check.
        var uuid: UUID?
        var name: String
        var slug: String
    }

    struct Removed: Sendable {
        var id: CheckDefinition.ID
        var uuid: UUID
        /// From the last applied catalog; nil when the data directory has no snapshot of it.
        var slug: String?
        /// The checks that answer that slug URL after the change (it shared the slug, or a
        /// check took it); nil when the slug URL answers 404.
        var slugSuccessor: SlugSuccessor? = nil
    }

    /// Who answers a slug URL that a removed or renamed check leaves behind: the URL keeps
    /// answering, so "now answers 404" would be false.
    struct SlugSuccessor: Sendable, Equatable {
        /// Sorted; several: the slug URL answers 409 ambiguous slug.
        var checks: [CheckDefinition.ID]
        /// Several checks shared the slug before the change (it answered 409).
        var wasShared: Bool

        /// `tour/b (no longer ambiguous)`, `409 (ambiguous: tour/b, tour/c)`: what the slug URL
        /// answers now, after "now answers ".
        var answer: String {
            if checks.count == 1 { return "\(checks[0])" + (wasShared ? " (no longer ambiguous)" : "") }
            return "409 (ambiguous: \(checks.map { "\($0)" }.joined(separator: ", ")))"
        }
    }

    struct Renamed: Sendable {
        var id: CheckDefinition.ID
        var uuid: UUID
        var oldName: String
        var oldSlug: String
        var newName: String
        var newSlug: String
        /// The checks that answer the old slug URL after the change; nil: it answers 404.
        var oldSlugSuccessor: SlugSuccessor? = nil
    }

    /// A check whose `uuid:` pins another UUID than the one the store gave it: its old UUID
    /// URL stops answering (its pings stay, retired), the pinned one starts.
    struct Repinned: Sendable {
        var id: CheckDefinition.ID
        var oldUUID: UUID
        var newUUID: UUID
    }

    struct SettingChange: Sendable {
        var id: CheckDefinition.ID
        var uuid: UUID
        var field: String
        /// nil: the field did not apply before (e.g. `schedule` replacing `timeout`).
        var old: String?
        var new: String?
    }

    struct Conflict: Sendable, Hashable {
        var project: String
        var slug: String
        /// Keys of the checks sharing the slug, sorted.
        var keys: [String]
    }

    var added: [Added] = []
    var removed: [Removed] = []
    var renamed: [Renamed] = []
    var changed: [SettingChange] = []
    var newConflicts: [Conflict] = []
    var repinned: [Repinned] = []
    /// Checks with a UUID that the previous snapshot does not list (all of them without one):
    /// the snapshot needs writing even when nothing else changed.
    var unlisted = 0

    public var isEmpty: Bool {
        added.isEmpty && removed.isEmpty && renamed.isEmpty && changed.isEmpty && newConflicts.isEmpty && repinned.isEmpty
    }

    /// Whether the previous catalog already says what the new snapshot would, timestamp aside:
    /// no check created, removed, renamed, re-pinned or changed, and every check listed in it.
    func keepsSnapshot(previous: PreviousCatalog?, checks: Int) -> Bool {
        guard let previous else { return false }
        return added.isEmpty && removed.isEmpty && renamed.isEmpty && changed.isEmpty && repinned.isEmpty && unlisted == 0
            && previous.count == checks
    }

    /// UUIDs of every check the change touches: created, removed, given its pinned UUID (old
    /// and new), or with a setting changed. The others keep their definition, so what was
    /// derived from it (rules, deadlines) stays true.
    var affectedUUIDs: Set<UUID> {
        var uuids = Set(changed.map(\.uuid))
        uuids.formUnion(added.compactMap(\.uuid))
        uuids.formUnion(removed.map(\.uuid))
        for repin in repinned {
            uuids.insert(repin.oldUUID)
            uuids.insert(repin.newUUID)
        }
        return uuids
    }

    /// Compares `catalog` against what the data directory says was applied last.
    /// - Parameters:
    ///   - previous: the snapshot of the last applied catalog; nil when there is none (renames
    ///     and setting changes cannot be told then, only creations and deletions).
    ///   - registry: identity -> UUID of every live check.
    public static func between(previous: AppliedCatalog?, registry: Registry, catalog: Catalog) -> CatalogChange {
        between(previous.map { .snapshot($0) }, registry: registry, catalog: catalog)
    }

    /// Compares `catalog` against the one being served: what a reload does.
    static func between(serving: ServingCatalog, registry: Registry, catalog: Catalog) -> CatalogChange {
        between(.serving(serving), registry: registry, catalog: catalog)
    }

    static func between(_ previous: PreviousCatalog?, registry: Registry, catalog: Catalog) -> CatalogChange {
        var change = CatalogChange()
        var earlier = PreviousCatalog.Lookup(previous)
        // Who owns each slug URL, before and after: only asked about for checks removed or
        // renamed. The first few questions (a reload renaming a check) are answered by a scan;
        // an index of every slug URL is built only for a change that asks many.
        var questions = 0
        var owners: (before: [SlugURL: [CheckDefinition.ID]], after: [SlugURL: [CheckDefinition.ID]])?
        func successor(project: String, slug: String) -> SlugSuccessor? {
            guard !slug.isEmpty else { return nil }
            questions += 1
            if questions <= 8 {
                let after = catalog.checks.lazy.filter { $0.slug == slug && $0.id.project == project }.map(\.id)
                guard !after.isEmpty else { return nil }
                return SlugSuccessor(checks: after.sorted(), wasShared: (previous?.owners(project: project, slug: slug) ?? 0) > 1)
            }
            if owners == nil {
                let before = previous?.slugs ?? []
                owners = (slugOwners(before.map(\.id), slugs: before.map(\.slug)),
                          slugOwners(catalog.checks.map(\.id), slugs: catalog.checks.map(\.slug)))
            }
            guard let slugs = owners, let after = slugs.after[SlugURL(project: project, slug: slug)] else { return nil }
            return SlugSuccessor(checks: after.sorted(), wasShared: (slugs.before[SlugURL(project: project, slug: slug)]?.count ?? 0) > 1)
        }
        var listed = 0
        // A registry with no check yet (a first start): every check is new.
        let everyCheckIsNew = registry.checks.isEmpty
        if everyCheckIsNew {
            let checks = catalog.checks
            change.added = mapInParts(checks.count) { added(checks, at: $0) }
        }
        // (Then none is left to look at here.)
        for index in everyCheckIsNew ? 0..<0 : catalog.checks.indices {
            let identity = catalog.checks[index].id
            guard let uuid = registry.uuid(for: identity) else {
                change.added.append(added(catalog.checks, at: index))
                continue
            }
            let definition = catalog.checks[index]
            listed += 1
            if let pin = definition.pinnedUUID, uuid != pin {
                change.repinned.append(Repinned(id: identity, oldUUID: uuid, newUUID: pin))
                continue
            }
            // Applied from these very files: nothing in the catalog was renamed or changed.
            if case .identical? = previous { continue }
            guard let old = earlier.check(uuid, identity: identity) else {
                change.unlisted += 1
                continue
            }
            if old.name != definition.name || old.slug != definition.slug {
                change.renamed.append(Renamed(
                    id: definition.id, uuid: uuid, oldName: old.name, oldSlug: old.slug, newName: definition.name, newSlug: definition.slug,
                    oldSlugSuccessor: old.slug == definition.slug ? nil : successor(project: identity.project, slug: old.slug)))
            }
            if case .definition(let before) = old, before.hasSameSettings(as: definition) { continue }
            let (oldSettings, settings) = (old.settings, definition.settings)
            for field in CheckDefinition.settingFields where oldSettings[field] != settings[field] {
                change.changed.append(SettingChange(id: definition.id, uuid: uuid, field: field, old: oldSettings[field], new: settings[field]))
            }
        }
        // Every check the registry lists and the catalog does not: none when the catalog's
        // checks (each identity once) include as many listed ones as the registry lists.
        let noneRemoved = listed == registry.checks.count && catalog.identitiesAreUnique
        let removed = noneRemoved ? [] : registry.checks.filter { catalog.check($0.key) == nil }.sorted { $0.key < $1.key }
        for (identity, uuid) in removed {
            let slug = earlier.check(uuid)?.slug
            change.removed.append(Removed(
                id: identity, uuid: uuid, slug: slug, slugSuccessor: slug.flatMap { successor(project: identity.project, slug: $0) }))
        }
        let conflictsAfter = catalog.slugsAreUnique == true ? [] : conflicts(catalog.checks.map { (project: $0.id.project, key: $0.id.key, slug: $0.slug) })
        if !conflictsAfter.isEmpty {
            let oldConflicts = conflicts(previous?.slugs.map { (project: $0.id.project, key: $0.id.key, slug: $0.slug) } ?? [])
            change.newConflicts = conflictsAfter.filter { !oldConflicts.contains($0) }
        }
        return change
    }

    /// The check at `index` as added: a pinned UUID is known before the server loads it. Its
    /// fields are read in place (a first start adds a million, and a copy of each definition
    /// retains all of it).
    private static func added(_ checks: [CheckDefinition], at index: Int) -> Added {
        Added(id: checks[index].id, uuid: checks[index].pinnedUUID, name: checks[index].name, slug: checks[index].slug)
    }

    /// A project's slug: one slug URL.
    struct SlugURL: Hashable {
        var project: String
        var slug: String
    }

    /// The checks on each slug URL.
    static func slugOwners(_ checks: [CheckDefinition.ID], slugs: [String]) -> [SlugURL: [CheckDefinition.ID]] {
        var owners: [SlugURL: [CheckDefinition.ID]] = [:]
        for (check, slug) in zip(checks, slugs) where !slug.isEmpty {
            owners[SlugURL(project: check.project, slug: slug), default: []].append(check)
        }
        return owners
    }

    /// Slugs shared by several checks of one project.
    static func conflicts(_ checks: [(project: String, key: String, slug: String)]) -> [Conflict] {
        // The first key on each slug URL; groups only where a second one comes (rare).
        var first: [SlugURL: String] = [:]
        first.reserveCapacity(checks.count)
        var groups: [String: [String: [String]]] = [:]
        for check in checks where !check.slug.isEmpty {
            let url = SlugURL(project: check.project, slug: check.slug)
            guard let earlier = first[url] else {
                first[url] = check.key
                continue
            }
            if groups[check.project]?[check.slug] == nil { groups[check.project, default: [:]][check.slug] = [earlier] }
            groups[check.project, default: [:]][check.slug, default: []].append(check.key)
        }
        var result: [Conflict] = []
        for (project, slugs) in groups.sorted(by: { $0.key < $1.key }) {
            for (slug, keys) in slugs.sorted(by: { $0.key < $1.key }) where keys.count > 1 {
                result.append(Conflict(project: project, slug: slug, keys: keys.sorted()))
            }
        }
        return result
    }

    /// The same change with the UUIDs the registry assigned to created checks.
    /// Gives each added check its UUID, in place (a first start adds a million: a copy of the
    /// list was a third of this).
    mutating func assign(_ assigned: AssignedUUIDs) {
        // Every check added (a first start): in the catalog's order, as the UUIDs were asked.
        if let inOrder = assigned.inOrder, inOrder.count == added.count {
            for index in added.indices { added[index].uuid = inOrder[index] }
            return
        }
        let uuids = assigned.byIdentity
        added.withUnsafeMutableBufferPointer { added in
            nonisolated(unsafe) let added = added
            // On every core when there are many (a first start's million lookups).
            inParts(added.count) { range in
                for index in range { added[index].uuid = uuids[added[index].id] }
            }
        }
    }
}

extension AppliedCatalog {
    /// The snapshot of a catalog as served: every check with its UUID.
    init(_ catalog: Catalog, uuids: [CheckDefinition.ID: UUID], at time: Int64) {
        self.init(checks: Array(Self.checks(of: catalog, uuids: uuids)), appliedAt: time)
    }

    /// The snapshot's checks, made as they are read, in the catalog's (identity) order.
    static func checks(of catalog: Catalog, uuids: [CheckDefinition.ID: UUID]) -> some Sequence<AppliedCatalog.Check> {
        catalog.checks.lazy.compactMap { definition -> AppliedCatalog.Check? in
            guard let uuid = uuids[definition.id] else { return nil }
            return AppliedCatalog.Check(
                uuid: uuid, project: definition.id.project, key: definition.id.key, name: definition.name, slug: definition.slug,
                settings: definition.settings)
        }
    }
}

/// The catalog a change is measured against.
enum PreviousCatalog {
    /// `catalog.json`: at start, and in `kiothc plan`.
    case snapshot(AppliedCatalog)
    /// The catalog being served: on every reload. Compared definition to definition, so an
    /// unchanged check costs a few comparisons rather than two sets of printed settings.
    case serving(ServingCatalog)
    /// `catalog.json` when it was written from the catalog being applied (the same files, read
    /// by the same build, with the same registry: a restart): that catalog itself, unread.
    case identical(Catalog)

    /// One check as it was applied.
    enum Check {
        case applied(AppliedCatalog.Check)
        case definition(CheckDefinition)

        var name: String {
            switch self {
            case .applied(let check): check.name
            case .definition(let definition): definition.name
            }
        }

        var slug: String {
            switch self {
            case .applied(let check): check.slug
            case .definition(let definition): definition.slug
            }
        }

        var settings: [String: String] {
            switch self {
            case .applied(let check): check.settings
            case .definition(let definition): definition.settings
            }
        }
    }

    var count: Int {
        switch self {
        case .snapshot(let snapshot): snapshot.checks.count
        case .serving(let serving): serving.count
        case .identical(let catalog): catalog.checks.count
        }
    }

    /// Finds the check applied under a UUID. Asked in identity order (as a catalog lists its
    /// checks), a snapshot is walked beside the catalog, both sorted by identity, rather than
    /// indexed: at a restart with a million checks the index cost as much as the comparison.
    struct Lookup {
        let previous: PreviousCatalog?
        private var cursor = 0
        private var byUUID: [UUID: Int]?

        init(_ previous: PreviousCatalog?) { self.previous = previous }

        /// The check applied under `uuid`; `identity`, when given, is the caller's, not below
        /// any identity asked before.
        mutating func check(_ uuid: UUID, identity: CheckIdentity? = nil) -> Check? {
            switch previous {
            case nil: return nil
            case .serving(let serving): return serving.check(uuid).map { .definition($0.definition) }
            // (Asked with an identity for the catalog's own checks; a removed one is not in it.)
            case .identical(let catalog): return identity.flatMap { catalog.check($0) }.map { .definition($0) }
            case .snapshot(let snapshot):
                let checks = snapshot.checks
                if let identity {
                    while cursor < checks.count, checks[cursor].identity < identity { cursor += 1 }
                    // (A snapshot the server wrote lists each UUID once.)
                    if cursor < checks.count, checks[cursor].uuid == uuid, checks[cursor].identity == identity {
                        return .applied(checks[cursor])
                    }
                }
                if byUUID == nil {
                    var index: [UUID: Int] = [:]
                    index.reserveCapacity(checks.count)
                    for position in checks.indices where index[checks[position].uuid] == nil { index[checks[position].uuid] = position }
                    byUUID = index
                }
                return byUUID?[uuid].map { .applied(checks[$0]) }
            }
        }
    }

    /// How many checks of `project` had `slug`.
    func owners(project: String, slug: String) -> Int {
        switch self {
        case .snapshot(let snapshot): snapshot.checks.count { $0.slug == slug && $0.project == project }
        case .serving(let serving):
            serving.catalog.checks.count { $0.slug == slug && $0.id.project == project && serving.uuid(of: $0.id) != nil }
        case .identical(let catalog): catalog.checks.count { $0.slug == slug && $0.id.project == project }
        }
    }

    /// Every check's identity and slug.
    var slugs: [(id: CheckIdentity, slug: String)] {
        switch self {
        case .snapshot(let snapshot): snapshot.checks.map { ($0.identity, $0.slug) }
        case .serving(let serving): serving.entries.map { ($0.definition.id, $0.definition.slug) }
        case .identical(let catalog): catalog.checks.map { ($0.id, $0.slug) }
        }
    }
}
