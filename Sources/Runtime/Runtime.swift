import Alerting
import BlockingWork
import CheckCatalog
import Foundation
import Logging
import Monitoring
import PingStore
import PostgresStore
import ServiceLifecycle

/// Everything `kiothc serve` runs behind its HTTP surface: the serving catalog and its
/// reloads, the check states, the ping recorder, deadlines, pause and resume, the store and
/// alert delivery. `open` loads the config, takes the data directory's lock, opens the store
/// and rebuilds state; `services` runs it. No HTTP here: `Server` composes listeners over it.
public final class Runtime: Sendable {
    public let options: RuntimeOptions
    public let clock: RuntimeClock
    public let catalog: CurrentCatalog
    public let states: CheckStates
    /// The store, as the runtime uses it.
    public let store: any CheckStore
    /// The same store as files under the data directory (its journal statistics for
    /// `/metrics`); nil with a shared store.
    public let files: FileStore?
    public let recorder: PingRecorder
    public let pause: RuntimePause
    let dispatcher: AlertDispatcher
    /// Reload requests (SIGHUP, inotify, the poll, `/-/reload`).
    public let reloads = ReloadQueue()
    /// What SIGHUP reloads besides the configuration (the HTTP side's TLS certificate).
    public let hangups = HangupListeners()
    /// The outcome of the last load, for `/metrics`, `/-/reload` and the dashboard.
    public let reloadStatus: CurrentReloadStatus
    /// Successful reloads, for services that keep per-check state (subscribe before `run`).
    let catalogChanges = CatalogChangeFeed()
    public let urls: PingURLFormat
    /// Authorizes `/-/reload`, `/metrics` and the dashboard's admin login.
    public let adminToken: AdminToken
    public let adminTokenOrigin: AdminToken.Origin
    /// What badge URLs are derived from (SPEC §13), kept with the store.
    public let badgeSecret: BadgeSecret
    let engine: StatusEngine
    /// Settles alerts held by maintenance windows and dependencies (SPEC §14).
    let holds: HeldAlertRelease
    /// The loader of every later reload, after it applied the configuration at start.
    let applier: CatalogApplier
    /// The config files as the start decoded them, for the first reload to reuse.
    let parsedFiles: ParsedFiles
    let logger: Logger
    /// With a shared store, every check live in it (`LiveChecks`); empty with files.
    public let liveChecks: LiveChecks
    /// `serve.lock`, held while this runtime lives: one server per data directory (none with
    /// a shared store: several instances use it at once).
    let lock: DataDirectoryLock?

    /// Loads and validates everything, takes the data directory (or connects to the shared
    /// store), opens the store and rebuilds state. `baseURL` only shapes the ping URLs printed
    /// in logs.
    public static func open(
        options: RuntimeOptions, baseURL: String?, environment: [String: String], logger: Logger, clock: RuntimeClock = .system
    ) async throws(StartFailure) -> Runtime {
        let result: LoadResult
        let fingerprint: ConfigFingerprint
        // With files, those the last server decoded (read before the lock is taken: it is
        // replaced only by a rename, and whatever it holds is checked against the files).
        let parsed = if case .files = options.store { ConfigCache.restore(from: DataDirectory(options.dataDirectory), logger: logger) } else { ParsedFiles() }
        // The registry is read meanwhile, on a thread of its own (used only if the file is
        // still the one read once the data directory is held; any error is the store's to report).
        let registry = Task.detached { () -> Registry.Prefetched? in
            guard case .files = options.store else { return nil }
            return await blocking(named: "kiothc-registry") { try? Registry.prefetch(from: DataDirectory(options.dataDirectory)) }
        }
        // Read before the files: a checkout that moves on meanwhile is loaded the next time.
        let commit = GitRevision.of(options.configDirectory)
        do {
            let files = try ConfigFingerprint.files(directory: options.configDirectory)
            result = try ConfigLoader.load(directory: options.configDirectory, reusing: parsed)
            fingerprint = try ConfigFingerprint.of(directory: options.configDirectory, loadedFrom: files, digest: result.configDigest)
        } catch {
            throw StartFailure(error.message)
        }
        let (restored, parsedCount) = parsed.counts
        if restored > 0 {
            logger.info("config files: \(restored) read back from the config cache, \(parsedCount) parsed")
        }
        // Validate before the data directory is created or touched.
        let checked = result.adding(SecretResolver(environment: environment).check(result.catalog))
        guard checked.isValid else {
            throw StartFailure("the configuration is invalid; nothing was started", report: DiagnosticReport(checked, strict: false).render(.text))
        }
        for diagnostic in checked.diagnostics {
            logger.warning("\(diagnostic.message)", metadata: Reloader.metadata(diagnostic))
        }
        let urls = PingURLFormat(base: baseURL)
        if case .postgres(let location) = options.store {
            return try await openShared(
                location, options: options, loaded: (result, checked, fingerprint, parsed, commit), urls: urls, environment: environment, logger: logger, clock: clock)
        }
        let data = DataDirectory(options.dataDirectory)
        // Before anything under --data is written (recovery, registry, token): a second server
        // on the same directory stops here, naming the first.
        let lock: DataDirectoryLock
        do throws(DataDirectoryLock.Failure) {
            lock = try DataDirectoryLock.acquire(data)
        } catch {
            switch error {
            case .held: throw StartFailure("cannot start: \(error)")
            case .io(let cause): throw StartFailure(DataDirectoryFailure(directory: options.dataDirectory, error: cause).message)
            }
        }
        do {
            let now = clock.now()
            // Opening the store creates the data directory and recovers it after a crash.
            let store = try FileStore.open(
                data, options: PingStore.Options(
                    durability: options.durability, keepPings: options.keepPings, openFileLimit: options.storeOpenFileLimit, faults: options.storeFaults),
                policy: .standard, now: now, logger: logger)
            let recovery = store.pingStore.recovery
            if recovery.tornLinesRepaired > 0 || recovery.recordsReplayed > 0 {
                logger.notice(
                    "recovered the store after an unclean stop",
                    metadata: [
                        "torn_lines_repaired": "\(recovery.tornLinesRepaired)",
                        "journal_records_replayed": "\(recovery.recordsReplayed)",
                    ])
            }
            if store.outbox.linesSkipped > 0 {
                logger.warning(
                    "skipped unreadable lines of the alert outbox", metadata: ["lines": "\(store.outbox.linesSkipped)", "file": "\(store.outbox.path)"])
            }
            let (token, origin) = try AdminToken.load(dataDirectory: options.dataDirectory, file: options.adminTokenFile)
            let badgeSecret = try BadgeSecret.load(dataDirectory: options.dataDirectory)
            let prefetched = await registry.value.flatMap { $0.isCurrent(in: data) ? $0.registry : nil }
            let runtime = try await start(
                store: store, files: store, location: "the data directory '\(data.path)'", loaded: (result, checked, fingerprint, parsed, commit),
                registry: prefetched, now: now,
                options: options, urls: urls, token: (token, origin), badgeSecret: badgeSecret, environment: environment, logger: logger, clock: clock,
                lock: lock)
            ConfigCache.save(parsed, checks: result.catalog.checks.count, to: data, after: runtime.applier.snapshots, logger: logger)
            return runtime
        } catch let error as StartFailure {
            throw error
        } catch let error as AdminToken.Failure where error.errno == nil {
            throw StartFailure(error.message)
        } catch {
            throw StartFailure(DataDirectoryFailure(directory: options.dataDirectory, error: error).message)
        }
    }

    typealias Loaded = (result: LoadResult, checked: LoadResult, fingerprint: ConfigFingerprint, parsed: ParsedFiles, commit: GitRevision?)

    /// What every start does once its store is open: rebuild the states, apply the
    /// configuration as the first reload, and put the services together.
    static func start(
        store: any CheckStore, files: FileStore?, location: String, loaded: Loaded, registry: Registry? = nil, now: Int64, options: RuntimeOptions,
        urls: PingURLFormat,
        token: (AdminToken, AdminToken.Origin), badgeSecret: BadgeSecret, environment: [String: String], logger: Logger, clock: RuntimeClock,
        lock: DataDirectoryLock?
    ) async throws -> Runtime {
        let states: CheckStates
        var live: [VersionedState] = []
        if let shared = store as? any SharedCheckStore {
            states = CheckStates([:])
            live = try await shared.states(of: nil)
            for versioned in live { states.refresh(versioned.check, to: versioned.state, version: versioned.version) }
        } else {
            states = CheckStates(try await store.loadStates())
        }
        let current = CurrentCatalog(ServingCatalog.empty)
        // The start is the first reload: the same validation, change set, registry
        // writes and swap as every later one.
        let liveChecks = LiveChecks()
        liveChecks.saw(live)
        let snapshots = SnapshotWriter()
        var applier = try await CatalogApplier(
            location: location, store: store, current: current, states: states, environment: environment, urls: urls, logger: logger,
            live: files == nil ? liveChecks : nil, snapshots: snapshots, registry: registry)
        if case .rejected(let checked) = try await applier.apply(loaded.result, now: now) {
            // Its diagnostics include what only the store can tell (a pinned UUID it cannot honour).
            throw StartFailure("the configuration is invalid; nothing was started", report: DiagnosticReport(checked, strict: false).render(.text))
        }
        let status = ReloadStatus(
            lastAttempt: now, lastSucceeded: true, lastSuccess: now, servingHash: loaded.fingerprint.hash, attemptedHash: loaded.fingerprint.hash,
            diagnostics: loaded.checked.diagnostics, failure: nil, servingCommit: loaded.commit)
        if options.mailer == nil {
            for project in current.snapshot.catalog.projects {
                for channel in project.channels {
                    guard case .email = channel.kind else { continue }
                    logger.warning(
                        "channel \(project.id)/\(channel.name) is an email channel but the server has no SMTP relay: its alerts will fail; start with --smtp URL --smtp-from ADDRESS",
                        metadata: ["file": "\(channel.location)"])
                }
            }
        }
        let dispatcher = AlertDispatcher(
            queue: store.alerts, courier: Courier(environment: environment, baseURL: urls.base.isEmpty ? nil : urls.base, mailer: options.mailer),
            channel: { project, name in current.snapshot.catalog.project(project)?.channel(named: name) }, logger: logger)
        return Runtime(
            options: options, clock: clock, catalog: current, states: states, store: store, files: files, dispatcher: dispatcher, urls: urls,
            applier: applier, parsed: loaded.parsed, status: status, token: token, badgeSecret: badgeSecret, logger: logger, lock: lock,
            liveChecks: liveChecks)
    }

    private init(
        options: RuntimeOptions, clock: RuntimeClock, catalog: CurrentCatalog, states: CheckStates, store: any CheckStore, files: FileStore?,
        dispatcher: AlertDispatcher, urls: PingURLFormat, applier: CatalogApplier, parsed: ParsedFiles, status: ReloadStatus,
        token: (AdminToken, AdminToken.Origin), badgeSecret: BadgeSecret, logger: Logger,
        lock: DataDirectoryLock?, liveChecks: LiveChecks
    ) {
        self.badgeSecret = badgeSecret
        self.liveChecks = liveChecks
        self.options = options
        self.clock = clock
        self.catalog = catalog
        self.states = states
        self.store = store
        self.files = files
        self.dispatcher = dispatcher
        self.urls = urls
        (adminToken, adminTokenOrigin) = token
        self.applier = applier
        parsedFiles = parsed
        self.reloadStatus = CurrentReloadStatus(status)
        self.logger = logger
        self.lock = lock
        let engine = StatusEngine(
            states: states, catalog: catalog, store: store, dispatcher: dispatcher, logger: logger, clock: clock.now)
        self.engine = engine
        holds = HeldAlertRelease(
            queue: store.alerts, shared: store as? any SharedCheckStore, catalog: catalog, states: states, dispatcher: dispatcher, changed: engine.holdsChanged, logger: logger, clock: clock.now)
        clock.wake(engine.wakeup)
        clock.wake(dispatcher.wakeup)
        clock.wake(engine.holdsChanged)
        recorder = PingRecorder(states: states, store: store, catalog: catalog, deadlines: engine, clock: clock)
        pause = RuntimePause(engine: engine)
    }

    /// The services that run the runtime, in start order (a service group stops them in
    /// reverse): the store (closed last, after every listener finished its pings), alert
    /// delivery (pending alerts stay in the outbox), deadlines, the reloader and its
    /// triggers. The HTTP listeners go after these.
    public var services: [any Service] {
        var services: [any Service] = [
            StoreService(store: store, snapshots: applier.snapshots),
            AlertService(dispatcher: dispatcher, outbox: files?.outbox, clock: clock),
        ]
        if let files {
            services.append(QueuedAlertTrimming(store: files, logger: logger))
        }
        if let shared = store as? any SharedCheckStore {
            services.append(SharedStateService(store: shared, states: states, engine: engine, live: liveChecks))
        }
        services += [
            DeadlineService(engine: engine, changes: catalogChanges.subscribe()),
            HoldService(holds: holds),
            Reloader(
                queue: reloads, applier: applier, configDirectory: options.configDirectory, parsed: parsedFiles,
                cache: files == nil ? nil : DataDirectory(options.dataDirectory), status: reloadStatus,
                feed: catalogChanges,
                logger: logger, debounce: options.reloadDebounce, clock: clock.now),
            HangupSignal(queue: reloads, listeners: hangups, logger: logger),
        ]
        if options.watchConfig {
            services.append(ConfigWatcher(directory: options.configDirectory, queue: reloads, logger: logger))
        }
        if let interval = options.reloadPoll {
            services.append(ConfigPoller(directory: options.configDirectory, interval: interval, queue: reloads, logger: logger))
        }
        return services
    }

    /// Alerts held by maintenance windows and dependencies (SPEC §14), as the last round of
    /// their release counted them.
    public var heldAlerts: Int { holds.heldCount.load(ordering: .relaxed) }

    /// Returns once `catalog.json` says what the start applied (it is written after the start,
    /// while the server serves).
    public func snapshotWritten() async {
        await applier.snapshots.finished()
    }

    /// Whether pings can be taken: configuration loaded and store open (`/-/ready`).
    public var isReady: Bool { store.isOpen && catalog.snapshot !== ServingCatalog.empty }
}

/// Why `serve` could not start, for a person: what is wrong and, when the config is invalid,
/// the full diagnostic report.
public struct StartFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let report: String?

    public init(_ message: String, report: String? = nil) {
        self.message = message
        self.report = report
    }

    public var description: String { message }
}

/// Closes the store when the service group shuts down; it is the first service, so the last
/// to stop, after every listener has finished its in-flight pings. The close waits for the
/// writer and fsyncs every touched file: on a thread of its own, not the cooperative pool.
struct StoreService: Service {
    let store: any CheckStore
    /// The start's `catalog.json`, written while the server already serves: finished first.
    let snapshots: SnapshotWriter

    func run() async throws {
        try? await gracefulShutdown()
        await snapshots.finished()
        if let files = store as? FileStore {
            try await blocking(named: "kiothc-close") { Result { try files.close() } }.get()
        } else {
            try await store.close()
        }
    }
}
