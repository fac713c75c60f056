import ArgumentParser
import Foundation
import Logging
import PingStore
import Server

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the ping server on the configuration in --config.",
        discussion: """
            Answers the Healthchecks Pinging API (/ping/<uuid>, /ping/<ping-key>/<slug>, with \
            /start, /fail, /log and /<exit-status>) for the checks declared under --config, and \
            stores every ping as JSON lines under --data. A ping is answered 200 only once it is \
            stored; 503 when it cannot be.

            Every option can also be set by an environment variable: KIOTHC_CONFIG, KIOTHC_DATA, \
            KIOTHC_LISTEN (comma-separated), KIOTHC_TLS_CERT, KIOTHC_TLS_KEY, KIOTHC_BASE_URL, \
            KIOTHC_DURABILITY, KIOTHC_KEEP_PINGS, KIOTHC_IDLE_TIMEOUT, KIOTHC_MAX_CONNECTIONS, KIOTHC_ADMIN_TOKEN_FILE, KIOTHC_RELOAD_POLL, KIOTHC_WATCH_CONFIG, KIOTHC_LOG_LEVEL. Flags win.

            The configuration is reloaded when a file under --config changes (inotify, and a \
            poll every --reload-poll seconds), on SIGHUP, and on POST /-/reload with the admin \
            token; a rejected one leaves the previous one serving (docs/reload.md).

            An invalid configuration is fatal at start (exit 1, with its diagnostics), and so is \
            a data directory where the UUID registry, ping keys or admin token cannot be written \
            (a full or read-only disk); once started, pings get 503 while the disk is full. SIGTERM \
            or SIGINT stop the server gracefully: no new connections, in-flight pings finish, \
            the store is flushed.

            Examples:
              kiothc serve
              kiothc serve --config /etc/kiothc/checks.d --data /var/lib/kiothc --listen 0.0.0.0:8000
              kiothc serve --listen https://[::]:8443 --tls-cert cert.pem --tls-key key.pem
            """
    )

    private static let environment = ProcessInfo.processInfo.environment

    @Option(name: .long, help: ArgumentHelp("The config directory.", valueName: "dir"))
    var config: String = environment["KIOTHC_CONFIG"] ?? "checks.d"

    @Option(name: .long, help: ArgumentHelp("The data directory: pings, flips, UUID registry, generated keys.", valueName: "dir"))
    var data: String = environment["KIOTHC_DATA"] ?? "data"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Address to listen on, [http://|https://]HOST:PORT, IPv6 in brackets; repeat for several. Default: 127.0.0.1:8000 and [::1]:8000.",
            valueName: "addr"))
    var listen: [String] = []

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("PEM certificate chain; listeners then speak HTTPS with HTTP/2.", valueName: "file"))
    var tlsCert: String? = environment["KIOTHC_TLS_CERT"]

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key of --tls-cert.", valueName: "file"))
    var tlsKey: String? = environment["KIOTHC_TLS_KEY"]

    @Option(name: .customLong("base-url"), help: ArgumentHelp("Public URL of the server, used in the ping URLs it prints.", valueName: "url"))
    var baseURL: String? = environment["KIOTHC_BASE_URL"]

    @Option(name: .long, help: "fsync: acknowledge a ping once it is on stable storage (group commit). write: once the OS has it (survives a crash of the server, not of the machine).")
    var durability: DurabilityOption = DurabilityOption(rawValue: environment["KIOTHC_DURABILITY"] ?? "fsync") ?? .fsync

    @Option(name: .customLong("keep-pings"), help: "Pings kept per check; older ones are compacted away.")
    var keepPings: Int = environment["KIOTHC_KEEP_PINGS"].flatMap { Int($0) } ?? 1_000

    @Option(name: .customLong("max-request-body"), help: "Largest ping request body in bytes; larger ones get 413 and are not recorded.")
    var maxRequestBody: Int = 10 * 1024 * 1024

    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may stay silent (idle keep-alive, or a client that stops sending) before it is closed; also the most a ping's body may take to arrive.")
    var idleTimeout: Int = environment["KIOTHC_IDLE_TIMEOUT"].flatMap { Int($0) } ?? 60

    @Option(name: .customLong("header-timeout"), help: "Seconds a new connection has to send its first request head (over HTTPS: to finish the TLS handshake) before it is closed.")
    var headerTimeout: Int = environment["KIOTHC_HEADER_TIMEOUT"].flatMap { Int($0) } ?? ServeOptions().headerTimeoutSeconds

    @Option(name: .customLong("max-connections"), help: "Open connections per listener; at the limit the ones waiting longest for a request are closed to make room.")
    var maxConnections: Int = environment["KIOTHC_MAX_CONNECTIONS"].flatMap { Int($0) } ?? ServeOptions().maxConnections

    @Option(name: .customLong("admin-token-file"), help: ArgumentHelp("File holding the admin token (for POST /-/reload, /metrics, the dashboard). Default: data/admin-token, generated at the first start.", valueName: "file"))
    var adminTokenFile: String? = environment["KIOTHC_ADMIN_TOKEN_FILE"]

    @Option(name: .customLong("reload-poll"), help: ArgumentHelp("Seconds between fingerprints of the config tree, the fallback when inotify misses a change; 0 disables it.", valueName: "seconds"))
    var reloadPoll: Double = environment["KIOTHC_RELOAD_POLL"].flatMap { Double($0) } ?? 5

    @Flag(name: .customLong("watch-config"), inversion: .prefixedNo, help: "Watch the config tree with inotify and reload on change (--no-watch-config: only the poll, SIGHUP and POST /-/reload).")
    var watchConfig = environment["KIOTHC_WATCH_CONFIG"].map { $0 != "0" && $0 != "false" } ?? true

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: LogLevelOption = LogLevelOption(rawValue: environment["KIOTHC_LOG_LEVEL"] ?? "info") ?? .info

    func validate() throws {
        for text in listenAddresses where ListenAddress(parsing: text) == nil {
            throw ValidationError("--listen '\(text)' is not HOST:PORT (IPv6 as [::1]:8000, optionally with http:// or https://)")
        }
        guard keepPings >= 1 else { throw ValidationError("--keep-pings must be at least 1") }
        guard maxRequestBody >= 0 else { throw ValidationError("--max-request-body cannot be negative") }
        guard reloadPoll >= 0, reloadPoll.isFinite else { throw ValidationError("--reload-poll must be 0 (off) or a number of seconds") }
        guard idleTimeout >= 1 else { throw ValidationError("--idle-timeout must be at least 1 second") }
        guard headerTimeout >= 1 else { throw ValidationError("--header-timeout must be at least 1 second") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
    }

    private var listenAddresses: [String] {
        if !listen.isEmpty { return listen }
        return Self.environment["KIOTHC_LISTEN"]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
    }

    func run() async throws {
        // A SIGHUP (`systemctl reload`) during a long startup must not end the process before
        // the reload service traps it; the configuration is being loaded anyway.
        signal(SIGHUP, SIG_IGN)
        let level = logLevel.level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "kiothc")

        var options = ServeOptions()
        options.configDirectory = config
        options.dataDirectory = data
        let addresses = listenAddresses.compactMap(ListenAddress.init(parsing:))
        if !addresses.isEmpty { options.listen = addresses }
        options.tlsCertificate = tlsCert
        options.tlsKey = tlsKey
        options.baseURL = baseURL
        options.durability = durability.mode
        options.keepPings = keepPings
        options.maxRequestBody = maxRequestBody
        options.idleTimeoutSeconds = idleTimeout
        options.headerTimeoutSeconds = headerTimeout
        options.maxConnections = maxConnections
        options.adminTokenFile = adminTokenFile
        options.watchConfig = watchConfig
        options.reloadPoll = reloadPoll > 0 ? .milliseconds(Int64(reloadPoll * 1000)) : nil

        let server: PingServer
        do {
            server = try PingServer.open(options: options, environment: Self.environment, logger: logger)
        } catch {
            if let report = error.report { FileHandle.standardError.write(Data(report.utf8)) }
            Terminal.error(error.message)
            throw ExitCode.failure
        }
        logger.notice("loaded \(server.checkCount) checks from \(config); data in \(data); durability \(durability.rawValue)")
        let printed = PrintedOnce()
        do {
            try await server.run { url in
                guard printed.first() else { return }
                for (check, uuidURL, slugURL) in server.pingURLs(base: baseURL ?? url, limit: 20) {
                    logger.info("ping \(check): \(uuidURL)\(slugURL.map { "  or  \($0)" } ?? "")")
                }
            }
        } catch {
            Terminal.error("the server stopped: \(error)")
            throw ExitCode.failure
        }
    }
}

enum DurabilityOption: String, ExpressibleByArgument, CaseIterable {
    case fsync, write

    var mode: PingStore.Durability {
        switch self {
        case .fsync: .fsync
        case .write: .write
        }
    }
}

enum LogLevelOption: String, ExpressibleByArgument, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
}
