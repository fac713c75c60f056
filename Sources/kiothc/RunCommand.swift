import ArgumentParser
import Foundation
import Monitoring
import PingClient

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a job and report it: start, then its exit status with the tail of its output.",
        discussion: """
            Sends a start ping with a fresh run id, runs the command (stdin, stdout and stderr \
            pass through), then sends its exit status with the last lines of its output as the \
            ping body. Pings that fail with 5xx, time out or cannot connect are retried with \
            backoff. If the server cannot be reached the job still runs, a warning goes to \
            stderr, and kiothc run exits with the command's status all the same.

            Exit status: the command's; 128+N when it was killed by signal N; 127 when it \
            could not be started; 64 for a usage error.

            The check is given by --ping-url, or --uuid, or --ping-key (or --ping-key-file) \
            with --slug. Each flag falls back to the environment variable named in its help; \
            a check given by flags wins over one given by variables. The values of \
            KIOTHC_PING_URL, KIOTHC_UUID and KIOTHC_PING_KEY are secrets: never printed, not \
            even when they are rejected.

            Examples (crontab):
              0 3 * * *  kiothc run --uuid 6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01 -- pg_dump -f /backup/db.sql app
              */5 * * * * kiothc run --server https://hc.example.com --ping-key-file /etc/kiothc/ops.key --slug queue-worker -- /opt/worker/run
            """
    )

    @Option(name: .customLong("ping-url"), help: Settings.pingURL.help("The check's full ping URL, e.g. https://host/ping/<uuid>.", valueName: "url"))
    var pingURL: String?

    @Option(name: .long, help: Settings.uuid.help("The check's UUID, with --server.", valueName: "uuid"))
    var uuid: String?

    @Option(
        name: .customLong("ping-key"),
        help: Settings.pingKey.help("The project's ping key, with --slug and --server. Prefer --ping-key-file: arguments are visible to every user.", valueName: "key"))
    var pingKey: String?

    @Option(name: .customLong("ping-key-file"), help: Settings.pingKeyFile.help("A file holding the project's ping key.", valueName: "file"))
    var pingKeyFile: String?

    @Option(name: .long, help: Settings.slug.help("The check's slug, with --ping-key.", valueName: "slug"))
    var slug: String?

    @Option(name: .long, help: Settings.server.help("The server's base URL.", valueName: "url"))
    var server: String?

    @Option(name: .long, help: Settings.timeout.help("Seconds to wait for each ping request.", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .long, help: Settings.attempts.help("Attempts per ping before giving up on 5xx, timeouts and refused connections.", valueName: "n"))
    var attempts: Int?

    @Argument(parsing: .postTerminator, help: "The command to run, after --.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command after --, e.g. kiothc run --uuid … -- /usr/local/bin/backup") }
        let environment = Environment()
        _ = try policy(environment)
        _ = try target(environment)
    }

    private func policy(_ environment: Environment) throws -> Pinger.Policy {
        Pinger.Policy(attempts: try environment.value(attempts, Settings.attempts), timeout: try environment.value(timeout, Settings.timeout))
    }

    /// The check to ping. Flags win over the environment form by form: a `--uuid` on the command
    /// line is used even when the unit's environment sets KIOTHC_PING_URL. Within the key form
    /// each part comes from its flag or else its variable, so a shared KIOTHC_PING_KEY_FILE
    /// combines with a per-job `--slug`. A variable is read only when it is needed, so a flag
    /// can stand in for a wrong one.
    private func target(_ environment: Environment) throws -> PingTarget {
        let server = { try environment.value(self.server, Settings.server) }
        do {
            if let pingURL = try environment.checked(pingURL, Settings.pingURL) { return try PingTarget(pingURL: pingURL) }
            if let uuid = try environment.checked(uuid, Settings.uuid) { return try PingTarget(server: server(), uuid: uuid) }
            if pingKey == nil && pingKeyFile == nil && slug == nil {
                if let pingURL = try environment.variable(Settings.pingURL) { return try PingTarget(pingURL: pingURL) }
                if let uuid = try environment.variable(Settings.uuid) { return try PingTarget(server: server(), uuid: uuid) }
            }
            if pingKey != nil && pingKeyFile != nil { throw ValidationError("give --ping-key or --ping-key-file, not both") }
            let key: String?
            if let pingKey {
                key = pingKey
            } else if let file = try pingKeyFile ?? (environment.variable(Settings.pingKey) == nil ? environment.variable(Settings.pingKeyFile) : nil) {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw ValidationError("cannot read the ping key file '\(file)'")
                }
                key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            } else {
                key = try environment.variable(Settings.pingKey)
            }
            if let key, let slug = try environment.optional(slug, Settings.slug) { return try PingTarget(server: server(), pingKey: key, slug: slug) }
        } catch let error as PingTargetError {
            throw ValidationError(error.message)
        }
        throw ValidationError("say which check: --ping-url URL, --uuid UUID, or --ping-key KEY (or --ping-key-file FILE) with --slug SLUG")
    }

    func run() async throws {
        // From here a SIGINT, SIGTERM or SIGHUP is forwarded to the command, even one that
        // arrives during the start ping: it is delivered as soon as the command has started.
        Job.catchSignals()
        let environment = Environment()
        let target = try target(environment)
        let rid = UUID()
        let agent = "kiothc-run/1"
        // The pinger's HTTP client is shut down before kiothc run exits with the job's status.
        let status = try await Pinger.with(policy: try policy(environment), server: target.start(rid: rid)) { pinger in
            var bodyLimit = 10_000
            switch await pinger.ping(target.start(rid: rid), userAgent: agent) {
            // Bounded, so that a strange header can neither crash the tail nor make it hold gigabytes.
            case .delivered(let limit): bodyLimit = min(max(limit ?? bodyLimit, 0), 1 << 20)
            case let outcome: warn(PingText.kind(.start, exitStatus: nil), outcome, "the job runs regardless")
            }
            let result = await Job.run(command, tailCapacity: bodyLimit)
            if let launchError = result.launchError { FileHandle.standardError.write(Data((launchError + "\n").utf8)) }
            let body = result.tail.text(limit: bodyLimit)
            let outcome = await pinger.ping(target.exitStatus(result.status, rid: rid), body: body, userAgent: agent)
            let kind = PingText.kind(result.status == 0 ? .success : .fail, exitStatus: Int(result.status))
            warn(kind, outcome, "kiothc run exits with the job's status all the same")
            return result.status
        }
        throw ExitCode(status)
    }

    private func warn(_ what: String, _ outcome: Pinger.Outcome, _ consequence: String) {
        let reason: String
        switch outcome {
        case .delivered: return
        case .refused(let status, let message): reason = "the server answered \(status) \(message.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .unreachable(let why): reason = "the server could not be reached (\(why))"
        }
        FileHandle.standardError.write(Data("kiothc run: warning: the \(what) ping was not delivered: \(reason); \(consequence)\n".utf8))
    }
}
