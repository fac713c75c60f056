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
            with --slug; flags fall back to KIOTHC_PING_URL, KIOTHC_UUID, KIOTHC_PING_KEY, \
            KIOTHC_PING_KEY_FILE, KIOTHC_SLUG and KIOTHC_SERVER.

            Examples (crontab):
              0 3 * * *  kiothc run --uuid 6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01 -- pg_dump -f /backup/db.sql app
              */5 * * * * kiothc run --server https://hc.example.com --ping-key-file /etc/kiothc/ops.key --slug queue-worker -- /opt/worker/run
            """
    )

    private static let environment = ProcessInfo.processInfo.environment

    @Option(name: .customLong("ping-url"), help: ArgumentHelp("The check's full ping URL, e.g. https://host/ping/<uuid>.", valueName: "url"))
    var pingURL: String? = environment["KIOTHC_PING_URL"]

    @Option(name: .long, help: ArgumentHelp("The check's UUID (with --server).", valueName: "uuid"))
    var uuid: String? = environment["KIOTHC_UUID"]

    @Option(name: .customLong("ping-key"), help: ArgumentHelp("The project's ping key (with --slug and --server). Prefer --ping-key-file: arguments are visible to every user.", valueName: "key"))
    var pingKey: String? = environment["KIOTHC_PING_KEY"]

    @Option(name: .customLong("ping-key-file"), help: ArgumentHelp("A file holding the project's ping key.", valueName: "file"))
    var pingKeyFile: String? = environment["KIOTHC_PING_KEY_FILE"]

    @Option(name: .long, help: ArgumentHelp("The check's slug (with --ping-key).", valueName: "slug"))
    var slug: String? = environment["KIOTHC_SLUG"]

    @Option(name: .long, help: ArgumentHelp("The server's base URL.", valueName: "url"))
    var server: String = environment["KIOTHC_SERVER"] ?? "http://127.0.0.1:8000"

    @Option(name: .long, help: "Seconds to wait for each ping request.")
    var timeout: Double = 10

    @Option(name: .long, help: "Attempts per ping before giving up (5xx, timeouts, refused connections).")
    var attempts: Int = 4

    @Argument(parsing: .postTerminator, help: "The command to run, after --.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command after --, e.g. kiothc run --uuid … -- /usr/local/bin/backup") }
        guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        _ = try target()
    }

    private func target() throws -> PingTarget {
        do {
            if let pingURL { return try PingTarget(pingURL: pingURL) }
            if let uuid { return try PingTarget(server: server, uuid: uuid) }
            var key = pingKey
            if let pingKeyFile {
                guard let text = try? String(contentsOfFile: pingKeyFile, encoding: .utf8) else {
                    throw ValidationError("cannot read --ping-key-file '\(pingKeyFile)'")
                }
                key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if let key, let slug { return try PingTarget(server: server, pingKey: key, slug: slug) }
        } catch let error as PingTargetError {
            throw ValidationError(error.message)
        }
        throw ValidationError("say which check: --ping-url URL, --uuid UUID, or --ping-key KEY (or --ping-key-file FILE) with --slug SLUG")
    }

    func run() async throws {
        let target = try target()
        let pinger = Pinger(policy: Pinger.Policy(attempts: attempts, timeout: timeout))
        let rid = UUID()
        let agent = "kiothc-run/1"
        var bodyLimit = 10_000
        switch await pinger.ping(target.start(rid: rid), userAgent: agent) {
        case .delivered(let limit): bodyLimit = limit ?? bodyLimit
        case let outcome: warn("start", outcome)
        }
        let result = await Job.run(command, tailCapacity: bodyLimit)
        let body = result.tail.text(limit: bodyLimit)
        let outcome = await pinger.ping(target.exitStatus(result.status, rid: rid), body: body, userAgent: agent)
        if case .delivered = outcome {} else { warn("exit status \(result.status)", outcome) }
        if let launchError = result.launchError { FileHandle.standardError.write(Data((launchError + "\n").utf8)) }
        throw ExitCode(result.status)
    }

    private func warn(_ what: String, _ outcome: Pinger.Outcome) {
        let reason: String
        switch outcome {
        case .delivered: return
        case .refused(let status, let message): reason = "the server answered \(status) \(message.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .unreachable(let why): reason = "the server could not be reached (\(why))"
        }
        FileHandle.standardError.write(Data("kiothc run: warning: the \(what) ping was not delivered: \(reason); the job runs regardless\n".utf8))
    }
}
