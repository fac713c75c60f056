import CheckCatalog
import Foundation
import Logging
import Monitoring
import PingStore

/// Applies a loaded configuration to the running server — the one path for the start and for
/// every reload (SPEC §1.3, §5):
///
/// 1. validate everything, secrets included, before touching anything (a rejected config
///    changes nothing);
/// 2. compute the change against the registry and the last applied snapshot;
/// 3. write the registry: new identities get UUIDs, removed ones are retired (never reused);
/// 4. swap the new serving catalog in, in one step;
/// 5. only then move removed checks' files aside and drop their runtime state, so no ping is
///    accepted for a check whose files are gone;
/// 6. write `catalog.json` and log what changed.
///
/// A value owned by one task at a time (the start, then the reloader), never shared.
struct CatalogApplier: Sendable {
    enum Outcome: Sendable {
        case applied(CatalogUpdate, warnings: [Diagnostic])
        case rejected(LoadResult)
    }

    /// An I/O failure before the swap: the old configuration keeps serving.
    struct Failure: Error, Sendable, CustomStringConvertible {
        let message: String
        /// The store's error behind it, if that is what failed (its errno and file).
        var cause: StoreError? = nil
        var description: String { message }
    }

    /// Where the store keeps its data, for messages ("the data directory 'data'").
    let location: String
    let store: any CheckStore
    let current: CurrentCatalog
    let states: CheckStates
    let environment: [String: String]
    let urls: PingURLFormat
    let logger: Logger
    /// Writes the start's snapshot after the swap; a reload writes its own inline, after it.
    let snapshots: SnapshotWriter
    /// With a shared store, the checks live in it: removed ones leave it here.
    let live: LiveChecks?
    private(set) var registry: Registry
    /// What `catalog.json` was written from, as found at start, until the first apply. The
    /// snapshot itself is read only if the first apply's configuration or registry differs
    /// from it. From then on a reload compares against the serving catalog, definition to
    /// definition, rather than keeping every check's settings as strings between reloads
    /// (~0.6 KB per check).
    private var sourceAtStart: AppliedCatalog.Source?
    private var appliedOnce = false

    init(
        location: String, store: any CheckStore, current: CurrentCatalog, states: CheckStates, environment: [String: String],
        urls: PingURLFormat, logger: Logger, live: LiveChecks? = nil, snapshots: SnapshotWriter = SnapshotWriter(), registry prefetched: Registry? = nil
    ) async throws {
        self.snapshots = snapshots
        self.location = location
        self.store = store
        self.current = current
        self.states = states
        self.environment = environment
        self.urls = urls
        self.logger = logger
        self.live = live
        // (One in an older layout is read again, by the store, which rewrites it.)
        if let prefetched, prefetched.isCurrentLayout { registry = prefetched } else { registry = try await store.loadRegistry() }
        // (An unreadable one is as good as none: the snapshot is then read, or rewritten.)
        sourceAtStart = try? await store.snapshotSource()
    }

    mutating func apply(_ loaded: LoadResult, now: Int64) async throws(Failure) -> Outcome {
        let checked = loaded.adding(SecretResolver(environment: environment).check(loaded.catalog))
            .adding(PinnedUUIDs.conflicts(loaded.catalog, registry: registry))
        guard checked.isValid else { return .rejected(checked) }
        let catalog = checked.catalog

        let previousCatalog = await previous(for: loaded)
        // Applied from these very files onto this very registry (a restart): every check has
        // its UUID, pinned ones theirs, and none was removed; nothing to compare or assign.
        let unchanged = if case .identical? = previousCatalog {
            registry.checks.count == catalog.checks.count && catalog.identitiesAreUnique
        } else {
            false
        }
        var change = unchanged ? CatalogChange() : CatalogChange.between(previousCatalog, registry: registry, catalog: catalog)
        let pingKeys: [String: String]
        var next = registry
        do {
            pingKeys = try await Self.pingKeys(catalog, store: store, environment: environment)
            if !unchanged {
                // A known check taking its pinned UUID: its old one is retired first (as a removed
                // check's), then the identity is new to the store and gets the pin.
                if !change.repinned.isEmpty { try await store.retire(change.repinned.map(\.id), in: &next, at: now) }
                let assigned = try await store.assign(catalog.identities, pinned: PinnedUUIDs.of(catalog), in: &next, at: now)
                change.assign(assigned)
                // Every removed check, in one registry write; only the log is cut at `logLimit`.
                try await store.retire(change.removed.map(\.id), in: &next, at: now)
            }
        } catch {
            throw Failure(message: "cannot write \(location): \(error)", cause: error as? StoreError)
        }
        registry = next

        // Every check new (a first start): the change lists them all with their UUIDs, in the
        // catalog's order, and the registry's table is not read before the swap (it is built
        // when first read: by the snapshot, written after the start).
        let apiKeys = ProjectAPIKeys.resolve(catalog, environment: environment)
        let serving = if change.added.count == catalog.checks.count {
            ServingCatalog(catalog: catalog, uuidsInOrder: change.added.map(\.uuid), pingKeys: pingKeys, apiKeys: apiKeys)
        } else {
            ServingCatalog(catalog: catalog, uuids: registry.checks, pingKeys: pingKeys, apiKeys: apiKeys)
        }
        current.swap(serving)

        let retiredUUIDs = change.removed.map { ($0.id, $0.uuid) } + change.repinned.map { ($0.id, $0.oldUUID) }
        live?.forget(retiredUUIDs.map(\.1))
        for (id, uuid) in retiredUUIDs {
            states.forget(uuid)
            do {
                try await store.retire(uuid)
            } catch {
                logger.error(
                    "check removed (or given its pinned UUID), but its ping files could not be moved to retired/; they stay in pings/",
                    metadata: ["check": "\(id)", "check.uuid": "\(PingURLFormat.name(uuid))", "error": "\(error)"])
            }
        }
        // A restart on the configuration it last applied keeps catalog.json as it is (and its
        // time): rewriting a million unchanged lines cost seconds of every start.
        // A snapshot that had to be read at start is written again even when it lists these
        // checks: it then records its source, and the next restart need not read it.
        let readAtStart = if case .snapshot? = previousCatalog { store.keepsSnapshotSource } else { false }
        if readAtStart || !change.keepsSnapshot(previous: previousCatalog, checks: catalog.checks.count) {
            let (registry, config) = (registry, AppliedCatalog.Source.config(checked))
            // (The registry's digest hashes every check, and its table may not be built yet: at
            // start, both are made off the start's path.)
            let source = { @Sendable in config.map { AppliedCatalog.Source(config: $0, registry: registry.digest) } }
            let table = { @Sendable in Self.table(of: catalog, in: registry) }
            if appliedOnce {
                await snapshots.finished()
                do {
                    try await store.saveSnapshot(of: catalog, uuids: table(), source: source(), at: now)
                } catch {
                    logger.error("cannot write the snapshot of the applied catalog; the next plan cannot see renames: \(error)")
                }
            } else {
                snapshots.write(catalog, uuids: table, source: source, at: now, to: store, logger: logger)
            }
        }
        sourceAtStart = nil
        appliedOnce = true
        log(change)
        return .applied(CatalogUpdate(change: change, serving: serving), warnings: checked.diagnostics)
    }

    /// The registry's UUID of every check of `catalog`, by identity: the registry's own table
    /// when it lists just these checks (every check has its UUID there and removed ones left
    /// it), without building another.
    private static func table(of catalog: Catalog, in registry: Registry) -> [CheckIdentity: UUID] {
        let checks = registry.checks
        if checks.count == catalog.checks.count && catalog.identitiesAreUnique { return checks }
        var table: [CheckIdentity: UUID] = [:]
        table.reserveCapacity(catalog.checks.count)
        for definition in catalog.checks { table[definition.id] = registry.uuid(for: definition.id) }
        return table
    }

    /// The catalog as last applied: the serving one once this applier applied one. At start,
    /// `catalog.json`; but when it was written from these very files, by this build, with
    /// this registry, it says what `loaded` would (`.identical`) and is not read: for a
    /// million checks, reading and comparing it was 40 % of a restart.
    private func previous(for loaded: LoadResult) async -> PreviousCatalog? {
        if appliedOnce { return .serving(current.snapshot) }
        if let source = sourceAtStart, source.config == AppliedCatalog.Source.config(loaded), source.registry == registry.digest {
            return .identical(loaded.catalog)
        }
        do {
            return try await store.loadAppliedCatalog().map { .snapshot($0) }
        } catch {
            // Only the rename/settings comparison depends on it; it is rewritten after the apply.
            logger.warning("ignoring the snapshot of the last applied catalog: \(error)")
            return nil
        }
    }

    /// At most this many lines per kind of change: a first start with 10,000 checks must not
    /// flood the log.
    static let logLimit = 50

    /// One line per change, each with the check's identity and UUID as metadata.
    private func log(_ change: CatalogChange) {
        for added in change.added.prefix(Self.logLimit) {
            let uuid = added.uuid.map(PingURLFormat.name) ?? "?"
            logger.notice(
                "check added: \(added.id) at \(urls.uuidURL(uuid))\(urls.slugURL(project: added.id.project, slug: added.slug).map { " and \($0)" } ?? "")",
                metadata: ["check": "\(added.id)", "check.uuid": "\(uuid)"])
        }
        for removed in change.removed.prefix(Self.logLimit) {
            let uuid = PingURLFormat.name(removed.uuid)
            let slug = removed.slug.flatMap { urls.slugURL(project: removed.id.project, slug: $0) }
            // A slug URL that another check answers (it shared the slug, or took it) is no 404.
            let gone: String
            switch (slug, removed.slugSuccessor) {
            case (let slug?, let successor?):
                gone = "\(urls.uuidURL(uuid)) now answers 404; slug URL \(slug) now answers \(successor.answer)"
            case (let slug?, nil):
                gone = "\(urls.uuidURL(uuid)) and \(slug) now answer 404"
            case (nil, _):
                gone = "\(urls.uuidURL(uuid)) now answers 404"
            }
            logger.notice(
                "check removed: \(removed.id); \(gone); its pings are in retired/",
                metadata: ["check": "\(removed.id)", "check.uuid": "\(uuid)"])
        }
        for repinned in change.repinned.prefix(Self.logLimit) {
            let old = PingURLFormat.name(repinned.oldUUID)
            let new = PingURLFormat.name(repinned.newUUID)
            logger.notice(
                "check given its pinned UUID: \(repinned.id) answers \(urls.uuidURL(new)); \(urls.uuidURL(old)) now answers 404, its pings are in retired/",
                metadata: ["check": "\(repinned.id)", "check.uuid": "\(new)"])
        }
        for renamed in change.renamed.prefix(Self.logLimit) {
            let old = urls.slugURL(project: renamed.id.project, slug: renamed.oldSlug) ?? "(no slug URL)"
            let new = urls.slugURL(project: renamed.id.project, slug: renamed.newSlug) ?? "(no slug URL)"
            let kept = renamed.oldSlugSuccessor.map { "; \(old) now answers \($0.answer)" } ?? ""
            logger.notice(
                "check renamed: \(renamed.id) '\(renamed.oldName)' -> '\(renamed.newName)'; slug URL \(old) -> \(new)\(kept)",
                metadata: ["check": "\(renamed.id)", "check.uuid": "\(PingURLFormat.name(renamed.uuid))"])
        }
        for setting in change.changed.prefix(Self.logLimit) {
            logger.notice(
                "check changed: \(setting.id) \(setting.field): \(setting.old.map { "'\($0)'" } ?? "(none)") -> \(setting.new.map { "'\($0)'" } ?? "(none)")",
                metadata: ["check": "\(setting.id)", "check.uuid": "\(PingURLFormat.name(setting.uuid))"])
        }
        let hidden = [change.added.count, change.removed.count, change.renamed.count, change.changed.count].map { max(0, $0 - Self.logLimit) }.reduce(0, +)
        if hidden > 0 {
            logger.notice("\(hidden) more changes are not logged; 'kiothc plan' before a change lists them all")
        }
        for conflict in change.newConflicts {
            logger.warning(
                "new slug conflict in project '\(conflict.project)': \(conflict.keys.joined(separator: ", ")) share slug '\(conflict.slug)'; \(urls.slugURL(project: conflict.project, slug: conflict.slug) ?? "") answers 409",
                metadata: ["project": "\(conflict.project)"])
        }
    }

    /// Every project's ping key: the configured one, resolved, or one generated once and kept.
    static func pingKeys(_ catalog: Catalog, store: any CheckStore, environment: [String: String]) async throws -> [String: String] {
        let resolver = SecretResolver(environment: environment)
        var keys: [String: String] = [:]
        for project in catalog.projects {
            if let secret = project.pingKey, case .success(let value) = resolver.resolve(secret) { keys[project.id] = value }
        }
        var generated = try await store.loadPingKeys()
        let configured = Set(keys.values)
        for project in catalog.projects where keys[project.id] == nil {
            keys[project.id] = try await store.pingKey(for: project.id, avoiding: configured, in: &generated)
        }
        return keys
    }
}
