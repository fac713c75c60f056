import ArgumentParser
import Foundation
import Runtime

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every check's status from the config and data directories; no server needed.",
        discussion: """
            Reads the configuration and the data directory (registry.json and the ping files), \
            or with --store postgres://… the database instead, and never writes either, so it is \
            safe next to a running server. A check no server \
            has loaded yet has no UUID and shows as new. Slug URLs show <PROJECT-ping-key> in \
            place of the ping key (a secret).

            JSON (--format json): {"checks": [{"project", "key", "name", "slug", "uuid", \
            "status", "started", "last_ping", "next_ping", "n_pings", "tags": [...], \
            "ping_url", "slug_url", "in_maintenance", "maintenance_until", \
            "suppressed_by": [...]}]}; times are ISO 8601 UTC, absent values null. The status \
            column says what holds a check's alerts: a maintenance window in progress, or the \
            checks it depends on that are down.

            While the files under --config are invalid, a running server keeps serving the \
            configuration it last applied; status then shows that one (from the data \
            directory's catalog.json) with a warning on stderr naming the first error, and exits \
            0. Without a catalog.json an invalid configuration is an error.

            Exit status: 0 success; 1 invalid config with no configuration applied to fall \
            back on, or unreadable data directory or database (also one without the kiothc \
            schema: nothing is created); 64 usage.

            Examples:
              kiothc status --config checks.d --data /var/lib/kiothc
              kiothc status --store postgres://kiothc@db.example.com/kiothc?sslmode=require
              kiothc status --project ops --tag prod --format json | jq '.checks[] | select(.status == "down")'
            """
    )

    @OptionGroup var config: ConfigOption

    @OptionGroup var data: DataOption

    @OptionGroup var store: StoreOption

    @Option(name: .long, help: ArgumentHelp("Only this project's checks.", valueName: "id"))
    var project: String?

    @Option(name: .long, help: ArgumentHelp("Only checks with this tag (repeat: all must match).", valueName: "tag"))
    var tag: [String] = []

    @Option(name: .long, help: "Output format: table or json.")
    var format: ReportFormat = .table

    @OptionGroup var baseURL: BaseURLOption

    func run() async throws {
        let environment = Environment()
        let config = try self.config.resolved(environment)
        let data = try self.data.resolved(environment)
        let store = try self.store.resolved(environment)
        let baseURL = try self.baseURL.resolved(environment)
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        do throws(StatusReport.Failure) {
            let report: StatusReport
            switch store {
            case .files:
                report = try StatusReport.load(config: config, data: data, project: project, tags: tag, baseURL: baseURL, now: now)
            case .postgres(let location):
                let database = try await ReportDatabase.open(location)
                do throws(StatusReport.Failure) {
                    report = try await StatusReport.load(config: config, store: database, project: project, tags: tag, baseURL: baseURL, now: now)
                } catch {
                    await database.closeConnections()
                    throw error
                }
                await database.closeConnections()
            }
            if let fallback = report.fallback { Terminal.warning(fallback.warning) }
            // One write of the whole report: a fleet's is tens of megabytes.
            FileHandle.standardOutput.write(Data(format == .json ? report.jsonBytes() : report.tableBytes(now: now)))
            Terminal.finish(status: ExitCode.success.rawValue)
        } catch {
            if let text = error.report { FileHandle.standardError.write(Data(text.utf8)) }
            Terminal.error(error.message)
            throw ExitCode.failure
        }
    }
}

struct PingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pings",
        abstract: "Show a check's newest pings from the data directory; no server needed.",
        discussion: """
            The check is its UUID or project/key (looked up in the data directory's \
            registry.json, or with --store postgres://… in the database). Newest first. Reads \
            only; safe next to a running server.

            A check removed from the configuration is shown too, from the pings kept under \
            retired/, with a first line "retired check ..." (JSON: "retired": true); its \
            project/key shows its last UUID, and a note on stderr names earlier ones.

            JSON (--format json): {"uuid", "project", "key", "retired", "retired_at", "pings": \
            [{"n", "type", "date", "method", "scheme", "remote_addr", "ua", "rid", "exitstatus", \
            "duration", "body", "body_size"}]}; duration in seconds, absent values null.

            Exit status: 0 success (also for a check with no pings yet); 1 a check the \
            registry does not know, or an unreadable data directory or database; 64 usage.

            Examples:
              kiothc pings ops/db-backup --limit 5
              kiothc pings ops/db-backup --store postgres://kiothc@/kiothc?host=/run/postgresql
              kiothc pings 0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c --format json | jq -r '.pings[0].body'
            """
    )

    static let maximumLimit = 100_000

    @Argument(help: ArgumentHelp("The check: its UUID, or project/key.", valueName: "check"))
    var check: String

    @OptionGroup var data: DataOption

    @OptionGroup var store: StoreOption

    @Option(name: .long, help: "How many pings, newest first (1-100000).")
    var limit: Int = 20

    @Option(name: .long, help: "Output format: table or json.")
    var format: ReportFormat = .table

    func validate() throws {
        guard (1...Self.maximumLimit).contains(limit) else {
            throw ValidationError("--limit must be between 1 and \(Self.maximumLimit), not \(limit)")
        }
    }

    func run() async throws {
        let environment = Environment()
        let data = try self.data.resolved(environment)
        let store = try self.store.resolved(environment)
        do throws(StatusReport.Failure) {
            let report: PingsReport
            switch store {
            case .files:
                report = try PingsReport.load(check: check, data: data, limit: limit)
            case .postgres(let location):
                let database = try await ReportDatabase.open(location)
                do throws(StatusReport.Failure) {
                    report = try await PingsReport.load(check: check, store: database, limit: limit)
                } catch {
                    await database.closeConnections()
                    throw error
                }
                await database.closeConnections()
            }
            Terminal.write(format == .json ? report.json() : report.table())
            for note in report.notes { Terminal.note(note) }
        } catch {
            Terminal.error(error.message)
            throw ExitCode.failure
        }
    }
}
