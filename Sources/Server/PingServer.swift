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
import Runtime
import ServiceLifecycle
import Synchronization

/// `kiothc serve`: a `Runtime` (config, store, states, deadlines, reloads, alerts) with one
/// Hummingbird application per listener over it, in one service group.
public final class PingServer: Sendable {
    public let options: ServeOptions
    public let runtime: Runtime
    let application: ServerApplication
    let logger: Logger
    /// The TLS certificate and key of the HTTPS listeners, reloaded while they serve.
    let certificate: ServingCertificate?
    let tls: TLSConfiguration?

    /// Loads and validates everything, opens the store and rebuilds state; binds nothing yet.
    public static func open(options: ServeOptions, environment: [String: String], logger: Logger) async throws(ServeError) -> PingServer {
        let certificate = try Self.servingCertificate(options, logger: logger)
        let runtime: Runtime
        do {
            runtime = try await Runtime.open(options: options.runtime, baseURL: options.baseURL, environment: environment, logger: logger)
        } catch {
            throw ServeError(error.message, report: error.report)
        }
        var application = buildApplication(runtime: runtime, options: options)
        application.certificate = certificate
        return PingServer(options: options, runtime: runtime, application: application, logger: logger, certificate: certificate)
    }

    private init(options: ServeOptions, runtime: Runtime, application: ServerApplication, logger: Logger, certificate: ServingCertificate?) {
        self.options = options
        self.runtime = runtime
        self.application = application
        self.logger = logger
        self.certificate = certificate
        tls = certificate?.tlsConfiguration
    }

    public var adminToken: AdminToken { runtime.adminToken }

    private static func servingCertificate(_ options: ServeOptions, logger: Logger) throws(ServeError) -> ServingCertificate? {
        switch (options.tlsCertificate, options.tlsKey) {
        case (nil, nil):
            if options.listen.contains(where: { $0.scheme == .https }) {
                throw ServeError("an https:// listener needs --tls-cert and --tls-key")
            }
            return nil
        case (let certificate?, let key?):
            do {
                return try ServingCertificate(certificate: certificate, key: key, logger: logger, now: RuntimeClock.system.now)
            } catch {
                throw ServeError(error.message)
            }
        default:
            throw ServeError("--tls-cert and --tls-key go together; give both or neither")
        }
    }

    /// Runs until SIGTERM or SIGINT: HTTP stops first (in-flight pings finish), the store is
    /// flushed and closed last. With a `notifier` (systemd's `NOTIFY_SOCKET`), READY=1 once
    /// every listener is bound, STOPPING=1 when the shutdown begins, and the watchdog fed.
    public func run(notifier: SystemdNotifier? = nil, onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        // Services stop in reverse order: listeners first, then the certificate's reloads,
        // the reload triggers and the reloader, the deadline scheduler, alert delivery (pending
        // alerts stay in the outbox), the store last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = runtime.services.map { .init(service: $0) }
        if let certificate {
            // Subscribed before the service group starts SIGHUP's service, which names what
            // SIGHUP reloads.
            let hangups = runtime.hangups.subscribe("the TLS certificate")
            services.append(.init(service: CertificateReloadService(certificate: certificate, hangups: hangups, interval: options.tlsReloadPoll)))
        }
        let connectionLimit = connectionLimitWithinOpenFiles()
        let bound = ListenersBound(count: options.listen.count)
        let runtime = runtime
        let listening: @Sendable (String) -> Void = { url in
            onListening(url)
            // Ready as /-/ready means it: the configuration was loaded before any listener
            // started, so this is the moment the last one can take pings.
            guard let urls = bound.bound(url), let notifier, runtime.isReady else { return }
            notifier.ready(status: "serving \(runtime.catalog.snapshot.count) checks at \(urls.joined(separator: ", "))")
        }
        for address in options.listen {
            services.append(.init(service: try application(address, connectionLimit: connectionLimit, onListening: listening)))
        }
        if let notifier {
            services.insert(.init(service: notifier.watchdogService), at: 0)
            services.append(.init(service: notifier.stoppingService))
        }
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        try await ServiceGroup(configuration: configuration).run()
        guard let statistics = runtime.files?.pingStore.statistics else {
            logger.notice("stopped: listeners closed, store closed", metadata: ["pings_stored": "\(runtime.recorder.meter.snapshot.count)"])
            return
        }
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
            let pings = application.pings
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
        let responder = application.responder(scheme: scheme.rawValue)
        let logger = logger
        let announceToken = runtime.adminTokenOrigin == .generated ? runtime.adminToken : nil
        let announced = tokenAnnounced
        let baseURL = options.baseURL
        // The public status pages (`status_page: true`), logged once at start with their paths;
        // the dashboard shows them to the admin.
        let statusPages = application.dashboard.statusPages.paths(runtime.catalog.snapshot.catalog).map { ($0.project.id, $0.path) }
        let statusAnnounced = statusPagesAnnounced
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
                    let kept = self.runtime.files == nil ? "and kept in the database" : "into \(AdminToken.fileName) in the data directory (mode 0600)"
                    logger.notice(
                        "admin token generated \(kept); it is not logged again. Log in at \(baseURL ?? url)/login?token=\(announceToken.text)")
                }
                if !statusPages.isEmpty, statusAnnounced.first() {
                    for (project, path) in statusPages {
                        logger.notice("public status page of project '\(project)' at \(baseURL ?? url)\(path)")
                    }
                }
                onListening(url)
            },
            logger: logger)
    }

    private let tokenAnnounced = Once()
    private let statusPagesAnnounced = Once()

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

    /// The catalog now serving, for the CLI's startup summary.
    public var checkCount: Int { runtime.catalog.snapshot.count }

    /// Ping URLs of the first `limit` checks in (project, key) order, for the startup log (and
    /// newcomers following the README). Only those are built: strings for 10,000 checks were
    /// the largest heap peak of a start (heaptrack).
    public func pingURLs(base: String, limit: Int) -> [(check: String, uuidURL: String, slugURL: String?)] {
        let snapshot = runtime.catalog.snapshot
        let first = snapshot.catalog.checks.prefix(limit)  // in (project, key) order already
        return first.compactMap { definition in
            guard let uuid = snapshot.uuid(of: definition.id) else { return nil }
            // Ping keys are secrets (SPEC §1.2): logs name them, never print them.
            let project = definition.id.project
            let slugURL = definition.slug.isEmpty ? nil : "\(base)/ping/<\(project)-ping-key>/\(definition.slug)"
            return ("\(definition.id)", "\(base)/ping/\(PingURLFormat.name(uuid))", slugURL)
        }
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

/// Counts listeners as they start: their URLs once the last one has, exactly once.
final class ListenersBound: Sendable {
    private let state: Mutex<(expected: Int, urls: [String])>

    init(count: Int) {
        state = Mutex((expected: count, urls: []))
    }

    func bound(_ url: String) -> [String]? {
        state.withLock { state in
            state.urls.append(url)
            return state.urls.count == state.expected ? state.urls : nil
        }
    }
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
