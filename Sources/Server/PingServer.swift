import Alerting
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

    /// Loads and validates everything, opens the store and rebuilds state; binds nothing yet.
    public static func open(options: ServeOptions, environment: [String: String], logger: Logger) throws(ServeError) -> PingServer {
        let result: LoadResult
        do {
            result = try ConfigLoader.load(directory: options.configDirectory)
        } catch {
            throw ServeError(error.message)
        }
        let secretProblems = SecretResolver(environment: environment).check(result.catalog)
        let checked = result.adding(secretProblems)
        guard checked.isValid else {
            throw ServeError("the configuration is invalid; nothing was started", report: DiagnosticReport(checked, strict: false).render(.text))
        }
        for diagnostic in checked.diagnostics {
            logger.warning("\(diagnostic.message)", metadata: ["config.file": "\(diagnostic.location.file):\(diagnostic.location.line)", "code": "\(diagnostic.code.rawValue)"])
        }
        let tls = try Self.tlsConfiguration(options)
        do {
            let data = DataDirectory(options.dataDirectory)
            let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
            // Opening the store creates the data directory and recovers it after a crash.
            let store = try PingStore.open(data, options: PingStore.Options(durability: options.durability, keepPings: options.keepPings))
            var registry = try Registry.load(from: data)
            let identities = result.catalog.checks.map { CheckIdentity(project: $0.id.project, key: $0.id.key) }
            let assigned = try registry.assign(identities)
            let pingKeys = try Self.pingKeys(result.catalog, data: data, environment: environment)
            if store.recovery.tornLinesRepaired > 0 || store.recovery.recordsReplayed > 0 {
                logger.notice(
                    "recovered the store after an unclean stop",
                    metadata: [
                        "torn_lines_repaired": "\(store.recovery.tornLinesRepaired)",
                        "journal_records_replayed": "\(store.recovery.recordsReplayed)",
                    ])
            }
            let current = Set(identities)
            for (identity, _) in registry.checks where !current.contains(identity) {
                if let uuid = try registry.retire(identity, at: now) {
                    try store.retire(uuid)
                    logger.notice("check removed from the configuration; its pings were moved aside", metadata: ["check": "\(identity)", "check.uuid": "\(uuid.uuidString.lowercased())"])
                }
            }
            var uuids: [CheckDefinition.ID: UUID] = [:]
            for (identity, uuid) in assigned { uuids[CheckDefinition.ID(project: identity.project, key: identity.key)] = uuid }
            let serving = ServingCatalog(catalog: result.catalog, uuids: uuids, pingKeys: pingKeys)
            let states = try store.loadStates()
            var options = options
            if let scale = environment[StatusEngine.timeScaleVariable].flatMap({ Int64($0) }), scale > 1 {
                options.testTimeScale = scale
                logger.warning("\(StatusEngine.timeScaleVariable)=\(scale): check durations and alert retries are divided by \(scale); for tests only")
            }
            let outbox = try Outbox(directory: data.path + "/alerts", policy: RetryPolicy.standard.scaled(by: options.testTimeScale), now: now)
            if outbox.linesSkipped > 0 {
                logger.warning("skipped unreadable lines of the alert outbox", metadata: ["lines": "\(outbox.linesSkipped)", "file": "\(outbox.path)"])
            }
            return PingServer(
                options: options, serving: serving, states: states, store: store, outbox: outbox, environment: environment, logger: logger, tls: tls)
        } catch let error as StoreError {
            throw ServeError("cannot open the data directory '\(options.dataDirectory)': \(error)")
        } catch {
            throw ServeError("cannot open the data directory '\(options.dataDirectory)': \(error)")
        }
    }

    private init(
        options: ServeOptions, serving: ServingCatalog, states: [UUID: CheckState], store: PingStore, outbox: Outbox,
        environment: [String: String], logger: Logger, tls: TLSConfiguration?
    ) {
        self.options = options
        let catalog = CurrentCatalog(serving)
        self.catalog = catalog
        self.states = CheckStates(states)
        self.store = store
        self.logger = logger
        self.tls = tls
        let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000_000) }
        self.dispatcher = AlertDispatcher(
            outbox: outbox, courier: Courier(environment: environment),
            channel: { project, name in catalog.snapshot.catalog.project(project)?.channel(named: name) }, logger: logger)
        self.engine = StatusEngine(
            states: self.states, catalog: catalog, store: store, dispatcher: dispatcher, logger: logger, timeScale: options.testTimeScale,
            clock: clock)
        var endpoint = PingEndpoint(catalog: catalog, states: self.states, store: store, clock: clock, maxRequestBody: options.maxRequestBody)
        endpoint.engine = engine
        self.endpoint = endpoint
    }

    /// Every project's ping key: the configured one, resolved, or one generated once and kept.
    private static func pingKeys(_ catalog: Catalog, data: DataDirectory, environment: [String: String]) throws -> [String: String] {
        let resolver = SecretResolver(environment: environment)
        var keys: [String: String] = [:]
        for project in catalog.projects {
            if let secret = project.pingKey, case .success(let value) = resolver.resolve(secret) { keys[project.id] = value }
        }
        var generated = try PingKeys.load(from: data)
        let configured = Set(keys.values)
        for project in catalog.projects where keys[project.id] == nil {
            keys[project.id] = try generated.key(for: project.id, avoiding: configured)
        }
        return keys
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
        // Stopped in reverse order: listeners first, then the deadline scheduler, then alert
        // delivery (pending alerts stay in the outbox), the store last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: StoreService(store: store)),
            .init(service: AlertService(dispatcher: dispatcher)),
            .init(service: DeadlineService(engine: engine)),
        ]
        for address in options.listen {
            services.append(.init(service: try application(address, onListening: onListening)))
        }
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        try await ServiceGroup(configuration: configuration).run()
        let statistics = store.statistics
        logger.notice("stopped: listeners closed, store flushed", metadata: ["pings_stored": "\(statistics.records)"])
    }

    private func application(_ address: ListenAddress, onListening: @escaping @Sendable (String) -> Void) throws -> some Service {
        let scheme: ListenAddress.Scheme = address.scheme ?? (tls == nil ? .http : .https)
        let idle = TimeAmount.seconds(Int64(options.idleTimeoutSeconds))
        let server: HTTPServerBuilder
        switch scheme {
        case .http:
            server = .http1(configuration: .init(idleTimeout: idle))
        case .https:
            guard let tls else { throw ServeError("\(address) needs --tls-cert and --tls-key") }
            server = try .http2Upgrade(tlsConfiguration: tls, configuration: .init(idleTimeout: .seconds(options.idleTimeoutSeconds)))
        }
        let responder = ServerResponder(pings: endpoint, scheme: scheme.rawValue)
        let logger = logger
        return Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "kiothc", reuseAddress: true),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                let host = address.host.contains(":") ? "[\(address.host)]" : address.host
                let url = "\(scheme.rawValue)://\(host):\(port)"
                logger.notice("serving pings at \(url)")
                onListening(url)
            },
            logger: logger)
    }

    /// The catalog now serving, for the CLI's startup summary.
    public var checkCount: Int { catalog.snapshot.count }

    /// Ping URLs of every check, for the startup log (and newcomers following the README).
    public func pingURLs(base: String) -> [(check: String, uuidURL: String, slugURL: String?)] {
        let snapshot = catalog.snapshot
        return snapshot.entries.sorted { $0.definition.id < $1.definition.id }.map { entry in
            let uuid = entry.uuid.uuidString.lowercased()
            let slugURL = snapshot.pingKeys[entry.definition.id.project].flatMap { key in
                entry.definition.slug.isEmpty ? nil : "\(base)/ping/\(key)/\(entry.definition.slug)"
            }
            return ("\(entry.definition.id)", "\(base)/ping/\(uuid)", slugURL)
        }
    }
}

/// Closes the store when the service group shuts down; it is the first service, so the last
/// to stop, after every listener has finished its in-flight pings.
struct StoreService: Service {
    let store: PingStore

    func run() async throws {
        try? await gracefulShutdown()
        try store.close()
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
