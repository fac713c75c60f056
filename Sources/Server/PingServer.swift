import Alerting
import BlockingWork
import CheckCatalog
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
import Logging
import Monitoring
import NIOCore
import NIOSSL
import PingStore
import ServiceLifecycle
import Synchronization

/// The composition root of `kiothc serve` (and of the server tests): loads the config,
/// resolves secrets, opens the data directory, rebuilds state, and runs one Hummingbird
/// application per listener with the store, in one service group.
public final class PingServer: Sendable {
    public let options: ServeOptions
    let catalog: CurrentCatalog
    let states: CheckStates
    let store: PingStore
    let endpoint: PingEndpoint
    let engine: StatusEngine
    let dispatcher: AlertDispatcher
    let logger: Logger
    let tls: TLSConfiguration?
    /// The loader of every later reload, after it applied the configuration at start.
    let applier: CatalogApplier
    let reloads = ReloadQueue()
    /// The outcome of the last load, for `/metrics`, `/-/reload` and the dashboard.
    public let reloadStatus: CurrentReloadStatus
    /// Successful reloads, for services that keep per-check state (subscribe before `run`).
    public let catalogChanges = CatalogChangeFeed()
    public let adminToken: AdminToken
    let adminTokenOrigin: AdminToken.Origin
    let urls: PingURLFormat
    let api: ManagementAPI
    let dashboard: Dashboard
    /// `serve.lock`, held while this server lives: one server per data directory.
    let lock: DataDirectoryLock

    /// Loads and validates everything, opens the store and rebuilds state; binds nothing yet.
    public static func open(options: ServeOptions, environment: [String: String], logger: Logger) throws(ServeError) -> PingServer {
        let result: LoadResult
        let fingerprint: ConfigFingerprint
        do {
            fingerprint = try ConfigFingerprint.compute(directory: options.configDirectory)
            result = try ConfigLoader.load(directory: options.configDirectory)
        } catch {
            throw ServeError(error.message)
        }
        // Validate before the data directory is created or touched.
        let checked = result.adding(SecretResolver(environment: environment).check(result.catalog))
        guard checked.isValid else {
            throw ServeError("the configuration is invalid; nothing was started", report: DiagnosticReport(checked, strict: false).render(.text))
        }
        for diagnostic in checked.diagnostics {
            logger.warning("\(diagnostic.message)", metadata: Reloader.metadata(diagnostic))
        }
        let tls = try Self.tlsConfiguration(options)
        let urls = PingURLFormat(base: options.baseURL)
        let data = DataDirectory(options.dataDirectory)
        // Before anything under --data is written (recovery, registry, token): a second server
        // on the same directory stops here, naming the first.
        let lock: DataDirectoryLock
        do throws(DataDirectoryLock.Failure) {
            lock = try DataDirectoryLock.acquire(data)
        } catch {
            switch error {
            case .held: throw ServeError("cannot start: \(error)")
            case .io(let cause): throw ServeError(DataDirectoryFailure(directory: options.dataDirectory, error: cause).message)
            }
        }
        do {
            let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
            // Opening the store creates the data directory and recovers it after a crash.
            let store = try PingStore.open(data, options: PingStore.Options(durability: options.durability, keepPings: options.keepPings))
            if store.recovery.tornLinesRepaired > 0 || store.recovery.recordsReplayed > 0 {
                logger.notice(
                    "recovered the store after an unclean stop",
                    metadata: [
                        "torn_lines_repaired": "\(store.recovery.tornLinesRepaired)",
                        "journal_records_replayed": "\(store.recovery.recordsReplayed)",
                    ])
            }
            let (token, origin) = try AdminToken.load(dataDirectory: options.dataDirectory, file: options.adminTokenFile)
            let states = CheckStates(try store.loadStates())
            let current = CurrentCatalog(ServingCatalog.empty)
            // The start is the first reload: the same validation, change set, registry
            // writes and swap as every later one.
            var applier = try CatalogApplier(
                data: data, store: store, current: current, states: states, environment: environment, urls: urls, logger: logger)
            guard case .applied = try applier.apply(result, now: now) else {
                throw ServeError("the configuration is invalid; nothing was started", report: DiagnosticReport(checked, strict: false).render(.text))
            }
            let status = ReloadStatus(
                lastAttempt: now, lastSucceeded: true, lastSuccess: now, servingHash: fingerprint.hash, attemptedHash: fingerprint.hash,
                diagnostics: checked.diagnostics, failure: nil)
            var options = options
            if let scale = environment[StatusEngine.timeScaleVariable].flatMap({ Int64($0) }), scale > 1 {
                options.testTimeScale = scale
                logger.warning("\(StatusEngine.timeScaleVariable)=\(scale): check durations and alert retries are divided by \(scale); for tests only")
            }
            let outbox = try Outbox(
                directory: data.path + "/alerts", policy: RetryPolicy.standard.scaled(by: options.testTimeScale), now: now,
                flipStored: { store.hasFlip(of: $0) })
            if outbox.linesSkipped > 0 {
                logger.warning("skipped unreadable lines of the alert outbox", metadata: ["lines": "\(outbox.linesSkipped)", "file": "\(outbox.path)"])
            }
            return PingServer(
                options: options, current: current, states: states, store: store, outbox: outbox, environment: environment, logger: logger,
                tls: tls, applier: applier, status: status, token: token, origin: origin, urls: urls, lock: lock)
        } catch let error as ServeError {
            throw error
        } catch let error as AdminToken.Failure where error.errno == nil {
            throw ServeError(error.message)
        } catch {
            throw ServeError(DataDirectoryFailure(directory: options.dataDirectory, error: error).message)
        }
    }

    private init(
        options: ServeOptions, current: CurrentCatalog, states: CheckStates, store: PingStore, outbox: Outbox, environment: [String: String],
        logger: Logger, tls: TLSConfiguration?, applier: CatalogApplier, status: ReloadStatus, token: AdminToken, origin: AdminToken.Origin,
        urls: PingURLFormat, lock: DataDirectoryLock
    ) {
        self.lock = lock
        self.options = options
        self.catalog = current
        self.states = states
        self.store = store
        self.logger = logger
        self.tls = tls
        self.applier = applier
        self.reloadStatus = CurrentReloadStatus(status)
        self.adminToken = token
        self.adminTokenOrigin = origin
        self.urls = urls
        let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000_000) }
        self.dispatcher = AlertDispatcher(
            outbox: outbox, courier: Courier(environment: environment),
            channel: { project, name in current.snapshot.catalog.project(project)?.channel(named: name) }, logger: logger)
        let engine = StatusEngine(
            states: states, catalog: current, store: store, dispatcher: dispatcher, logger: logger, timeScale: options.testTimeScale,
            clock: clock)
        self.engine = engine
        var endpoint = PingEndpoint(catalog: catalog, states: self.states, store: store, clock: clock, maxRequestBody: options.maxRequestBody)
        endpoint.bodyTimeout = .seconds(options.idleTimeoutSeconds)
        endpoint.engine = engine
        self.endpoint = endpoint
        let api = ManagementAPI(
            catalog: current, states: states, reader: store.reader, pause: RuntimePause(engine: engine),
            clock: clock, baseURL: options.baseURL, pingLimit: options.keepPings)
        self.api = api
        self.dashboard = Dashboard(api: api, token: token, status: reloadStatus, sessions: DashboardSessions())
    }

    private static func tlsConfiguration(_ options: ServeOptions) throws(ServeError) -> TLSConfiguration? {
        switch (options.tlsCertificate, options.tlsKey) {
        case (nil, nil):
            if options.listen.contains(where: { $0.scheme == .https }) {
                throw ServeError("an https:// listener needs --tls-cert and --tls-key")
            }
            return nil
        case (let certificate?, let key?):
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
                let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
                return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
            } catch {
                throw ServeError("cannot load the TLS certificate '\(certificate)' or key '\(key)': \(error)")
            }
        default:
            throw ServeError("--tls-cert and --tls-key go together; give both or neither")
        }
    }

    /// Runs until SIGTERM or SIGINT: HTTP stops first (in-flight pings finish), the store is
    /// flushed and closed last.
    public func run(onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        // Services stop in reverse order: listeners first, then the reload triggers and the
        // reloader, the deadline scheduler, alert delivery (pending alerts stay in the outbox),
        // the store last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: StoreService(store: store)),
            .init(service: AlertService(dispatcher: dispatcher)),
            .init(service: DeadlineService(engine: engine, changes: catalogChanges.subscribe())),
        ]
        services += reloadServices().map { .init(service: $0) }
        let connectionLimit = connectionLimitWithinOpenFiles()
        for address in options.listen {
            services.append(.init(service: try application(address, connectionLimit: connectionLimit, onListening: onListening)))
        }
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        try await ServiceGroup(configuration: configuration).run()
        let statistics = store.statistics
        var stopped: Logger.Metadata = ["pings_stored": "\(statistics.records)"]
        if statistics.journalSyncs > 0 {
            // What the disk's flushes cost the pings (BENCHMARKS.md reads it beside wrk's p99).
            stopped["journal_syncs"] = "\(statistics.journalSyncs)"
            stopped["slowest_journal_sync_ms"] = "\(MetricsEndpoint.number(MetricsEndpoint.seconds(statistics.slowestJournalSync) * 1000))"
        }
        logger.notice("stopped: listeners closed, store flushed", metadata: stopped)
    }

    private func application(
        _ address: ListenAddress, connectionLimit: Int, onListening: @escaping @Sendable (String) -> Void
    ) throws -> some Service {
        let scheme: ListenAddress.Scheme = address.scheme ?? (tls == nil ? .http : .https)
        let idle = TimeAmount.seconds(Int64(options.idleTimeoutSeconds))
        let server: HTTPServerBuilder
        // The plain listener's connections, shed at --max-connections.
        var connections: OpenConnections?
        switch scheme {
        case .http:
            let pings = endpoint
            let (timeout, headerTimeout) = (Duration.seconds(options.idleTimeoutSeconds), Duration.seconds(options.headerTimeoutSeconds))
            let open = OpenConnections()
            connections = open
            server = HTTPServerBuilder { responder in
                PingChannel(
                    responder: responder, endpoint: pings, scheme: scheme.rawValue, idleTimeout: timeout, headerTimeout: headerTimeout,
                    connections: open)
            }
        case .https:
            guard let tls else { throw ServeError("\(address) needs --tls-cert and --tls-key") }
            // The stream configuration is also what HTTP/1.1 over TLS uses: without its idle
            // timeout an HTTPS client that stopped sending kept its connection for ever. An idle
            // HTTP/2 client gets a GOAWAY and a PING; Hummingbird closes the connection once the
            // PING is acknowledged, GoAwayDeadline after the graceful-close timeout if it is not.
            let configuration = HTTP2UpgradeChannel.Configuration(
                idleTimeout: .seconds(options.idleTimeoutSeconds), gracefulCloseTimeout: .seconds(options.idleTimeoutSeconds),
                streamConfiguration: .init(idleTimeout: idle))
            let handshake = TimeAmount.seconds(Int64(options.headerTimeoutSeconds))
            server = HTTPServerBuilder { responder in
                HandshakeDeadline(
                    inner: try HTTP2UpgradeChannel(tlsConfiguration: tls, configuration: configuration, responder: responder), timeout: handshake,
                    goAwayTimeout: idle)
            }
        }
        let responder = ServerResponder(
            pings: endpoint, scheme: scheme.rawValue,
            reload: ReloadEndpoint(token: adminToken, queue: reloads, urls: urls),
            metrics: MetricsEndpoint(token: adminToken, status: reloadStatus, catalog: catalog, states: states, meter: endpoint.meter, store: store),
            api: api, dashboard: dashboard, ready: { [store, catalog] in store.isOpen && catalog.snapshot !== ServingCatalog.empty })
        let logger = logger
        let announceToken = adminTokenOrigin == .generated ? adminToken : nil
        let announced = tokenAnnounced
        let baseURL = options.baseURL
        return Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(
                // A burst of connections waits in the kernel's accept queue (up to net.core.somaxconn)
                // instead of having SYNs dropped and retried a second or more later: Hummingbird's
                // default is 256.
                address: .hostname(address.host, port: address.port), serverName: PingChannel.serverName, backlog: 4096, reuseAddress: true,
                availableConnectionsDelegate: ConnectionShedding(limit: connectionLimit, connections: connections, logger: logger)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                let host = address.host.contains(":") ? "[\(address.host)]" : address.host
                let url = "\(scheme.rawValue)://\(host):\(port)"
                logger.notice("serving pings at \(url)")
                if let announceToken, announced.first() {
                    // The only time the token is logged: at its generation.
                    logger.notice(
                        "admin token generated into \(AdminToken.fileName) in the data directory (mode 0600); it is not logged again. Log in at \(baseURL ?? url)/login?token=\(announceToken.text)")
                }
                onListening(url)
            },
            logger: logger)
    }

    private let tokenAnnounced = Once()

    /// Raises the open-files limit to its hard limit, and returns the connections per listener
    /// that fit in it: `--max-connections`, or less when every listener at that cap would run
    /// out of descriptors (accepting would then fail until connections close, instead of the
    /// idlest connections making room). A lowered cap is logged with what to change.
    private func connectionLimitWithinOpenFiles() -> Int {
        guard let limit = FileDescriptorLimit.raiseToHardLimit() else { return options.maxConnections }
        // Beyond the connections: the store's files, the log, the listeners, inotify.
        let reserve = 100
        let listeners = max(1, options.listen.count)
        let fitting = max(1, (limit - reserve) / listeners)
        guard fitting < options.maxConnections else { return options.maxConnections }
        logger.notice(
            "open connections capped at \(fitting) per listener (of --max-connections \(options.maxConnections)): the process may open \(limit) files for \(listeners) listener(s); raise the limit (ulimit -n, systemd LimitNOFILE=) for more")
        return fitting
    }

    /// The reloader and its triggers: SIGHUP, inotify, the fingerprint poll.
    private func reloadServices() -> [any Service] {
        var services: [any Service] = [
            Reloader(
                queue: reloads, applier: applier, configDirectory: options.configDirectory, status: reloadStatus, feed: catalogChanges,
                logger: logger, debounce: options.reloadDebounce, clock: { Int64(Date().timeIntervalSince1970 * 1_000_000) }),
            HangupSignal(queue: reloads, logger: logger),
        ]
        if options.watchConfig {
            services.append(ConfigWatcher(directory: options.configDirectory, queue: reloads, logger: logger))
        }
        if let interval = options.reloadPoll {
            services.append(ConfigPoller(directory: options.configDirectory, interval: interval, queue: reloads, logger: logger))
        }
        return services
    }

    /// The catalog now serving, for the CLI's startup summary.
    public var checkCount: Int { catalog.snapshot.count }

    /// Ping URLs of the first `limit` checks in (project, key) order, for the startup log (and
    /// newcomers following the README). Only those are built: strings for 10,000 checks were
    /// the largest heap peak of a start (heaptrack).
    public func pingURLs(base: String, limit: Int) -> [(check: String, uuidURL: String, slugURL: String?)] {
        let snapshot = catalog.snapshot
        let first = snapshot.catalog.checks.sorted { $0.id < $1.id }.prefix(limit)
        return first.compactMap { definition in
            guard let uuid = snapshot.uuid(of: definition.id) else { return nil }
            // Ping keys are secrets (SPEC §1.2): logs name them, never print them.
            let project = definition.id.project
            let slugURL = definition.slug.isEmpty ? nil : "\(base)/ping/<\(project)-ping-key>/\(definition.slug)"
            return ("\(definition.id)", "\(base)/ping/\(PingURLFormat.name(uuid))", slugURL)
        }
    }
}

/// Closes the store when the service group shuts down; it is the first service, so the last
/// to stop, after every listener has finished its in-flight pings. The close waits for the
/// writer and fsyncs every touched file: on a thread of its own, not the cooperative pool.
struct StoreService: Service {
    let store: PingStore

    func run() async throws {
        try? await gracefulShutdown()
        let store = store
        try await blocking(named: "kiothc-close") { Result { try store.close() } }.get()
    }
}

/// Why `serve` could not start, for a person: what is wrong and, when the config is invalid,
/// the full diagnostic report.
public struct ServeError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let report: String?

    init(_ message: String, report: String? = nil) {
        self.message = message
        self.report = report
    }

    public var description: String { message }
}

/// True the first time only (several listeners start; one logs the token).
final class Once: Sendable {
    private let done = Mutex(false)

    func first() -> Bool {
        done.withLock { done in
            defer { done = true }
            return !done
        }
    }
}
