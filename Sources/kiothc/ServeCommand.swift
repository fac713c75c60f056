import Alerting
import ArgumentParser
import Foundation
import Logging
import PingStore
import Runtime
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

            Every option can also be set by the environment variable shown in its help \
            (KIOTHC_LISTEN takes several addresses separated by commas; KIOTHC_WATCH_CONFIG \
            true/false, 1/0 or yes/no). A flag wins over its variable. A variable is checked as \
            its flag is: an invalid value is a usage error (exit 64) naming the variable. The \
            settings in effect are logged at start.

            The configuration is reloaded when a file under --config (or the one file it \
            names) changes (inotify, and a poll every --reload-poll seconds), on SIGHUP, and on \
            POST /-/reload with the admin token; a rejected one leaves the previous one serving \
            (docs/reload.md).

            Under systemd (Type=notify, NOTIFY_SOCKET set) the server sends READY=1 once every \
            listener is bound, STOPPING=1 when it stops, and WATCHDOG=1 as WatchdogSec= asks \
            (docs/operations.md).

            An invalid configuration is fatal at start (exit 1, with its diagnostics), and so is \
            a data directory where the UUID registry, ping keys or admin token cannot be written \
            (a full or read-only disk); once started, pings get 503 while the disk is full. SIGTERM \
            or SIGINT stop the server gracefully: no new connections, in-flight pings finish, \
            the store is flushed.

            One server per data directory: serve holds a lock on serve.lock in --data (flock, \
            released by the kernel however the server ends); a second serve on the same \
            directory exits 1 naming the pid of the first. status, pings and plan only read \
            and work beside it.

            Several instances on one PostgreSQL (--store postgres://…, docs/storage.md): every \
            instance loads the same --config, any accepts any ping (200 once its transaction \
            committed; 503 while the database is unreachable), every one watches deadlines and a \
            flip happens once, claimed in the database. The schema is created or migrated at \
            start. No data directory is used; the admin token is --admin-token-file or one \
            generated and kept in the database. Put them behind a load balancer \
            (examples/load-balancer/).

            Examples:
              kiothc serve
              kiothc serve --config /etc/kiothc/checks.d --data /var/lib/kiothc --listen 0.0.0.0:8000
              kiothc serve --listen https://[::]:8443 --tls-cert cert.pem --tls-key key.pem
              KIOTHC_STORE='postgres://kiothc:secret@db.internal/kiothc?sslmode=verify-full' kiothc serve
            """
    )

    @OptionGroup var config: ConfigOption

    @OptionGroup var data: DataOption
    @OptionGroup var store: StoreOption

    @Option(
        name: .long,
        help: Settings.listen.help("Address to listen on, [http://|https://]HOST:PORT, IPv6 in brackets; repeat for several.", valueName: "addr"))
    var listen: [String] = []

    @Option(name: .customLong("tls-cert"), help: Settings.tlsCert.help("PEM certificate chain; listeners then speak HTTPS with HTTP/2.", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: Settings.tlsKey.help("PEM private key of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(
        name: .customLong("tls-reload-poll"),
        help: Settings.tlsReloadPoll.help(
            "Seconds between looks at --tls-cert and --tls-key; changed files are reloaded for new connections (SIGHUP too). 0 disables it.",
            valueName: "seconds"))
    var tlsReloadPoll: Double?

    @OptionGroup var baseURL: BaseURLOption

    @Option(
        name: .long,
        help: Settings.durability.help(
            "fsync: acknowledge a ping once it is on stable storage (group commit). write: once the OS has it (survives a crash of the server, not of the machine)."))
    var durability: DurabilityOption?

    @Option(name: .customLong("keep-pings"), help: Settings.keepPings.help("Pings kept per check; older ones are compacted away.", valueName: "n"))
    var keepPings: Int?

    @Option(
        name: .customLong("max-request-body"),
        help: Settings.maxRequestBody.help("Largest ping request body in bytes; larger ones get 413 and are not recorded.", valueName: "bytes"))
    var maxRequestBody: Int?

    @Option(
        name: .customLong("idle-timeout"),
        help: Settings.idleTimeout.help(
            "Seconds a connection may stay silent (idle keep-alive, or a client that stops sending) before it is closed; also the most a ping's body may take to arrive.",
            valueName: "seconds"))
    var idleTimeout: Int?

    @Option(
        name: .customLong("header-timeout"),
        help: Settings.headerTimeout.help(
            "Seconds a new connection has to send its first request head (over HTTPS: to finish the TLS handshake) before it is closed.",
            valueName: "seconds"))
    var headerTimeout: Int?

    @Option(
        name: .customLong("max-connections"),
        help: Settings.maxConnections.help("Open connections per listener; at the limit the ones waiting longest for a request are closed to make room.", valueName: "n"))
    var maxConnections: Int?

    @Option(
        name: .customLong("admin-token-file"),
        help: Settings.adminTokenFile.help(
            "File holding the admin token (for POST /-/reload, /metrics, the dashboard). Default: data/admin-token, generated at the first start.",
            valueName: "file"))
    var adminTokenFile: String?

    @Option(
        name: .customLong("reload-poll"),
        help: Settings.reloadPoll.help("Seconds between fingerprints of the config tree, the fallback when inotify misses a change; 0 disables it.", valueName: "seconds"))
    var reloadPoll: Double?

    @Flag(
        name: .customLong("watch-config"), inversion: .prefixedNo,
        help: Settings.watchConfig.help("Watch the config tree with inotify and reload on change (--no-watch-config: only the poll, SIGHUP and POST /-/reload)."))
    var watchConfig: Bool?

    @Option(name: .customLong("log-level"), help: Settings.logLevel.help("trace, debug, info, notice, warning, error or critical."))
    var logLevel: LogLevelOption?

    @Option(
        name: .customLong("log-format"),
        help: Settings.logFormat.help("text: one line per entry for people; json: one JSON object per line (ts, level, msg, label, source, then the metadata keys) for log shippers."))
    var logFormat: LogFormatOption?

    @OptionGroup var smtp: SMTPOptions

    func validate() throws {
        _ = try settings(Environment())
    }

    /// What the server is told: each value from its flag, or else its variable, or else the
    /// default, checked by the same rules either way.
    private func settings(_ environment: Environment) throws -> (options: ServeOptions, logLevel: LogLevelOption, logFormat: LogFormatOption) {
        var options = ServeOptions()
        options.configDirectory = try config.resolved(environment)
        options.dataDirectory = try data.resolved(environment)
        options.store = try store.resolved(environment)
        if listen.isEmpty {
            options.listen = try environment.value(nil, Settings.listen)
        } else {
            options.listen = try listen.flatMap { try environment.parsed(flag: $0, Settings.listen) }
        }
        options.tlsCertificate = try environment.optional(tlsCert, Settings.tlsCert)
        options.tlsKey = try environment.optional(tlsKey, Settings.tlsKey)
        let tlsPoll = try environment.value(tlsReloadPoll, Settings.tlsReloadPoll)
        options.tlsReloadPoll = tlsPoll > 0 ? .milliseconds(Int64(tlsPoll * 1000)) : nil
        options.baseURL = try baseURL.resolved(environment)
        options.durability = try environment.value(durability, Settings.durability).mode
        options.keepPings = try environment.value(keepPings, Settings.keepPings)
        options.maxRequestBody = try environment.value(maxRequestBody, Settings.maxRequestBody)
        options.idleTimeoutSeconds = try environment.value(idleTimeout, Settings.idleTimeout)
        options.headerTimeoutSeconds = try environment.value(headerTimeout, Settings.headerTimeout)
        options.maxConnections = try environment.value(maxConnections, Settings.maxConnections)
        options.adminTokenFile = try environment.optional(adminTokenFile, Settings.adminTokenFile)
        let poll = try environment.value(reloadPoll, Settings.reloadPoll)
        options.reloadPoll = poll > 0 ? .milliseconds(Int64(poll * 1000)) : nil
        options.watchConfig = try environment.value(watchConfig, Settings.watchConfig)
        options.mailer = try smtp.resolved(environment)
        return (options, try environment.value(logLevel, Settings.logLevel), try environment.value(logFormat, Settings.logFormat))
    }

    func run() async throws {
        let environment = Environment()
        let (options, logLevel, logFormat) = try settings(environment)
        // A SIGHUP (`systemctl reload`) during a long startup must not end the process before
        // the reload service traps it; the configuration is being loaded anyway.
        signal(SIGHUP, SIG_IGN)
        let level = logLevel.level
        LoggingSystem.bootstrap { label in
            switch logFormat {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let logger = Logger(label: "kiothc")
        logger.notice("\(BuildInfo.line) starting: config \(options.configDirectory), store \(Self.storeName(options))")

        let server: PingServer
        do {
            server = try await PingServer.open(options: options, environment: environment.variables, logger: logger)
        } catch {
            if logFormat == .json {
                // A log shipper reads one JSON object per line: the diagnostics go in it.
                logger.critical("\(error.message)", metadata: error.report.map { ["diagnostics": .string($0)] })
                throw ExitCode.failure
            }
            if let report = error.report { FileHandle.standardError.write(Data(report.utf8)) }
            Terminal.error(error.message)
            throw ExitCode.failure
        }
        let commit = server.runtime.reloadStatus.snapshot.servingCommit.map { " (git commit \($0.short)\($0.branch.map { " on \($0)" } ?? ""))" } ?? ""
        logger.notice("loaded \(server.checkCount) checks from \(options.configDirectory)\(commit); data in \(Self.storeName(options))")
        logger.notice("settings: \(Self.summary(options, logLevel: logLevel, logFormat: logFormat))")
        if let mailer = options.mailer as? SMTPMailer {
            logger.notice("email channels send through \(mailer.relay) from \(mailer.sender.address)")
        }
        let notifier = SystemdNotifier(environment: environment.variables, logger: logger)
        if let notifier {
            let watchdog = notifier.watchdogInterval.map { "; the watchdog is fed every \(Self.seconds($0)) s" } ?? ""
            logger.info("systemd: READY=1 is sent through NOTIFY_SOCKET once every listener is bound\(watchdog)")
        }
        let printed = PrintedOnce()
        do {
            try await server.run(notifier: notifier) { url in
                guard printed.first() else { return }
                for (check, uuidURL, slugURL) in server.pingURLs(base: options.baseURL ?? url, limit: 20) {
                    logger.info("ping \(check): \(uuidURL)\(slugURL.map { "  or  \($0)" } ?? "")")
                }
            }
        } catch {
            if logFormat == .json {
                logger.critical("the server stopped: \(error)")
            } else {
                Terminal.error("the server stopped: \(error)")
            }
            throw ExitCode.failure
        }
    }

    /// The settings in effect, for the start log, as flags: what the environment changed is
    /// visible. Nothing here is a secret.
    /// Where the data is, for the start's log line (a database URL without its password).
    static func storeName(_ options: ServeOptions) -> String {
        switch options.store {
        case .files: options.dataDirectory
        case .postgres(let location): "\(location)"
        }
    }

    /// `5` or `0.2`: whole seconds without a fraction.
    static func seconds(_ duration: Duration) -> String {
        let seconds = Settings.seconds(duration)
        return seconds == seconds.rounded() ? "\(Int(seconds))" : "\(seconds)"
    }

    static func summary(_ options: ServeOptions, logLevel: LogLevelOption, logFormat: LogFormatOption) -> String {
        func text(_ poll: Duration?) -> String { poll.map(seconds) ?? "0" }
        return [
            "--listen \(options.listen.map(\.description).joined(separator: ","))",
            options.tlsCertificate == nil ? nil : "--tls-reload-poll \(text(options.tlsReloadPoll))",
            "--durability \(options.durability.rawValue)",
            "--keep-pings \(options.keepPings)",
            "--max-request-body \(options.maxRequestBody)",
            "--idle-timeout \(options.idleTimeoutSeconds)",
            "--header-timeout \(options.headerTimeoutSeconds)",
            "--max-connections \(options.maxConnections)",
            "--reload-poll \(text(options.reloadPoll))",
            options.watchConfig ? "--watch-config" : "--no-watch-config",
            "--log-level \(logLevel.rawValue)",
            "--log-format \(logFormat.rawValue)",
        ].compactMap { $0 }.joined(separator: " ")
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

enum LogFormatOption: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
