import ArgumentParser
import Foundation
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
            a check given by flags wins over one given by variables.

            Examples (crontab):
              0 3 * * *  kiothc run --uuid 6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01 -- pg_dump -f /backup/db.sql app
              */5 * * * * kiothc run --server https://hc.example.com --ping-key-file /etc/kiothc/ops.key --slug queue-worker -- /opt/worker/run
            """
    )

    private static let environment = ProcessInfo.processInfo.environment

    @Option(name: .customLong("ping-url"), help: ArgumentHelp("The check's full ping URL, e.g. https://host/ping/<uuid> ($KIOTHC_PING_URL).", valueName: "url"))
    var pingURL: String?

    @Option(name: .long, help: ArgumentHelp("The check's UUID, with --server ($KIOTHC_UUID).", valueName: "uuid"))
    var uuid: String?

    @Option(name: .customLong("ping-key"), help: ArgumentHelp("The project's ping key, with --slug and --server ($KIOTHC_PING_KEY). Prefer --ping-key-file: arguments are visible to every user.", valueName: "key"))
    var pingKey: String?

    @Option(name: .customLong("ping-key-file"), help: ArgumentHelp("A file holding the project's ping key ($KIOTHC_PING_KEY_FILE).", valueName: "file"))
    var pingKeyFile: String?

    @Option(name: .long, help: ArgumentHelp("The check's slug, with --ping-key ($KIOTHC_SLUG).", valueName: "slug"))
    var slug: String?

    @Option(name: .long, help: ArgumentHelp("The server's base URL ($KIOTHC_SERVER).", valueName: "url"))
    var server: String = environment["KIOTHC_SERVER"] ?? "http://127.0.0.1:8000"

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for each ping request ($KIOTHC_TIMEOUT; default 10).", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .long, help: ArgumentHelp("Attempts per ping before giving up on 5xx, timeouts and refused connections ($KIOTHC_ATTEMPTS; default 4).", valueName: "n"))
    var attempts: Int?

    @Argument(parsing: .postTerminator, help: "The command to run, after --.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command after --, e.g. kiothc run --uuid … -- /usr/local/bin/backup") }
        _ = try policy()
        _ = try target()
    }

    private func policy() throws -> Pinger.Policy {
        let attempts = try attempts ?? Self.number("KIOTHC_ATTEMPTS") { Int($0) } ?? 4
        let timeout = try timeout ?? Self.number("KIOTHC_TIMEOUT") { Double($0) } ?? 10
        guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1, not \(attempts)") }
        guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds, not \(timeout)") }
        return Pinger.Policy(attempts: attempts, timeout: timeout)
    }

    private static func number<T>(_ variable: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = environment[variable] else { return nil }
        guard let value = parse(text.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("\(variable)='\(text)' is not a number") }
        return value
    }

    /// The check to ping. Flags win over the environment form by form: a `--uuid` on the command
    /// line is used even when the unit's environment sets KIOTHC_PING_URL. Within the key form
    /// each part comes from its flag or else its variable, so a shared KIOTHC_PING_KEY_FILE
    /// combines with a per-job `--slug`.
    private func target() throws -> PingTarget {
        let variables = Self.environment
        do {
            if let pingURL { return try PingTarget(pingURL: pingURL) }
            if let uuid { return try PingTarget(server: server, uuid: uuid) }
            if pingKey == nil && pingKeyFile == nil && slug == nil {
                if let pingURL = variables["KIOTHC_PING_URL"] { return try PingTarget(pingURL: pingURL) }
                if let uuid = variables["KIOTHC_UUID"] { return try PingTarget(server: server, uuid: uuid) }
            }
            if pingKey != nil && pingKeyFile != nil { throw ValidationError("give --ping-key or --ping-key-file, not both") }
            let key: String?
            if let pingKey {
                key = pingKey
            } else if let file = pingKeyFile ?? (variables["KIOTHC_PING_KEY"] == nil ? variables["KIOTHC_PING_KEY_FILE"] : nil) {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw ValidationError("cannot read the ping key file '\(file)'")
                }
                key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            } else {
                key = variables["KIOTHC_PING_KEY"]
            }
            if let key, let slug = slug ?? variables["KIOTHC_SLUG"] { return try PingTarget(server: server, pingKey: key, slug: slug) }
        } catch let error as PingTargetError {
            throw ValidationError(error.message)
        }
        throw ValidationError("say which check: --ping-url URL, --uuid UUID, or --ping-key KEY (or --ping-key-file FILE) with --slug SLUG")
    }

    func run() async throws {
        // From here a SIGINT, SIGTERM or SIGHUP is forwarded to the command, even one that
        // arrives during the start ping: it is delivered as soon as the command has started.
        Job.catchSignals()
        let target = try target()
        let pinger = Pinger(policy: try policy())
        let rid = UUID()
        let agent = "kiothc-run/1"
        var bodyLimit = 10_000
        switch await pinger.ping(target.start(rid: rid), userAgent: agent) {
        // Bounded, so that a strange header can neither crash the tail nor make it hold gigabytes.
        case .delivered(let limit): bodyLimit = min(max(limit ?? bodyLimit, 0), 1 << 20)
        case let outcome: warn("start", outcome, "the job runs regardless")
        }
        let result = await Job.run(command, tailCapacity: bodyLimit)
        if let launchError = result.launchError { FileHandle.standardError.write(Data((launchError + "\n").utf8)) }
        let body = result.tail.text(limit: bodyLimit)
        let outcome = await pinger.ping(target.exitStatus(result.status, rid: rid), body: body, userAgent: agent)
        warn("exit status \(result.status)", outcome, "kiothc run exits with the job's status all the same")
        throw ExitCode(result.status)
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
