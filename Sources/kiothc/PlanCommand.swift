import ArgumentParser
import CheckCatalog
import Foundation
import PingStore
import PostgresStore
import Runtime

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what loading the configuration into the data directory would do.",
        discussion: """
            Compares the configuration under --config with what the server last applied from \
            the data directory (registry.json, catalog.json): checks created, deleted (with the \
            UUID and slug URLs that will answer 404), renamed (old slug URL -> new), changed \
            settings, new slug conflicts; then the maintenance windows of the next 7 days \
            (each period with what it applies to, its reason and where it is declared). Reads the data directory (or with --store \
            postgres://… the database), never writes it; resolves no secrets (ping keys appear \
            as <PROJECT-ping-key>).

            With --server URL it compares against what that running server applied (GET \
            /api/v3/catalog/), for the projects the API key (--api-key or KIOTHC_API_KEY) may \
            see: a read_only key is enough; it shows UUIDs as <PROJECT/KEY-uuid>, a \
            read_write key shows them. It first says which commit serves (live: 3f2c1ab \
            (main), applied 2 min ago) when the server's config directory is a git checkout. \
            With --against DIR it compares against another \
            configuration (a pull request's base checked out beside its head), offline: renames \
            and deletions are known; a UUID the server generated stays with its project/key, \
            so it shows as <PROJECT/KEY-uuid>.

            Exit status: 0 nothing would change; 2 something would (as terraform plan \
            -detailed-exitcode); 1 the configuration is invalid or the data directory or \
            database cannot be read (also a database without the kiothc schema: nothing is \
            created), the server cannot be asked, or the --against configuration is invalid; \
            64 usage error.

            Examples:
              kiothc plan --config checks.d --data /var/lib/kiothc
              kiothc plan --format json | jq '.deleted[].broken_urls[]'
              kiothc plan --base-url https://hc.example.com
              kiothc plan --store postgres://kiothc@db.example.com/kiothc?sslmode=require
              KIOTHC_API_KEY=... kiothc plan --server https://hc.example.com
              kiothc plan --config head/checks.d --against base/checks.d
            """
    )

    @OptionGroup var config: ConfigOption

    @OptionGroup var data: DataOption

    @OptionGroup var store: StoreOption

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Plan against the configuration this running server applied, through its API, rather than a data directory (not read from KIOTHC_SERVER: that one is for run, pause and resume).",
            valueName: "url"))
    var server: String?

    @Option(name: .customLong("api-key"), help: Settings.apiKey.help("With --server: an API key of the project to plan (read_only is enough).", valueName: "key"))
    var apiKey: String?

    @Option(name: .long, help: ArgumentHelp("Plan against another configuration (a directory or one YAML file), offline: a pull request's base.", valueName: "dir|file"))
    var against: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Output format: text, json, markdown (a summary table and the ping URLs that break, for a job summary or a pull-request comment) or github (an annotation on the line of each change that breaks a ping URL)."))
    var format: PlanFormat = .text

    @OptionGroup var baseURL: BaseURLOption

    func validate() throws {
        if server != nil && against != nil { throw ValidationError("give --server or --against, not both: a plan compares against one thing") }
        if server != nil || against != nil, data.data != nil || store.store != nil {
            throw ValidationError("\(server != nil ? "--server" : "--against") plans without a data directory or database: leave out --data and --store")
        }
        if let server, !PlanServer.isWebURL(server) { throw ValidationError("--server: '\(server)' is not an http:// or https:// URL") }
        if server == nil, apiKey != nil { throw ValidationError("--api-key is for --server") }
        if server != nil {
            guard let key = try Environment().optional(apiKey, Settings.apiKey), !key.isEmpty else {
                throw ValidationError("--server needs an API key of the project to plan: --api-key or KIOTHC_API_KEY (a read_only key is enough)")
            }
        }
    }

    func run() async throws {
        let environment = Environment()
        let config = try self.config.resolved(environment)
        let data = try self.data.resolved(environment)
        let store = try self.store.resolved(environment)
        let baseURL = try self.baseURL.resolved(environment)
        let result: LoadResult
        do {
            result = try ConfigLoader.load(directory: config, drafts: .keptUntilExit)
        } catch {
            Terminal.error(error.message)
            throw ExitCode.failure
        }
        guard result.isValid else {
            let report = DiagnosticReport(result, strict: false)
            if format == .json {
                Terminal.write(report.render(.json))
            } else if format == .github {
                Terminal.write(report.render(.github))
            } else {
                FileHandle.standardError.write(Data(report.render(.text).utf8))
            }
            Terminal.error(
                "the configuration is invalid, so it cannot be applied: nothing to plan. A running server rejects it and keeps "
                    + "serving the configuration it last applied ('kiothc status' shows that one). Fix the errors above ('kiothc check' lists them)")
            throw ExitCode.failure
        }
        let baseline: PlanBaseline
        let source: String
        if let server {
            let key = try environment.optional(apiKey, Settings.apiKey) ?? ""
            baseline = try await PlanServer.baseline(server: server, key: key, catalog: result.catalog)
            source = "what the server applied"
            if let projects = baseline.projects {
                let others = Set(result.catalog.projects.map(\.id)).subtracting(projects).sorted()
                if !others.isEmpty {
                    Terminal.note("planned for project\(projects.count == 1 ? "" : "s") \(projects.sorted().joined(separator: ", ")) only (the projects the API key may see); not compared: \(others.joined(separator: ", "))")
                }
            }
        } else if let against {
            baseline = try Self.configuration(against)
            source = "the configuration in '\(against)'"
        } else {
            baseline = try await Self.store(store, data: data)
            source = "the data directory"
        }
        let catalog = baseline.scope(result.catalog)
        let pins = PinnedUUIDs.conflicts(catalog, registry: baseline.registry)
        if !pins.isEmpty {
            FileHandle.standardError.write(Data(DiagnosticReport(result.adding(pins), strict: false).render(.text).utf8))
            throw ExitCode.failure
        }
        let change = CatalogChange.between(previous: baseline.applied, registry: baseline.registry, catalog: catalog)
        let report = CatalogChangeReport(change, urls: PingURLFormat(base: baseURL), standIns: baseline.standIns, source: source)
        let maintenance = MaintenancePlan(catalog, now: Int64(Date().timeIntervalSince1970 * 1_000_000))
        // "live: 3f2c1ab (main), applied 2 min ago": which commit serves (SPEC §16).
        let live = baseline.live?.line(now: Int64(Date().timeIntervalSince1970 * 1_000_000))
        switch format {
        case .json:
            Terminal.write(PlanDocument(change: report.document, maintenance: maintenance, live: baseline.live).json())
        case .text:
            Terminal.write((live.map { "\($0)\n\n" } ?? "") + report.text() + (maintenance.declared ? "\n" + maintenance.text() : ""))
        case .markdown:
            Terminal.write(report.markdown(live: live, appendix: maintenance.declared ? "\n" + maintenance.text() : ""))
        case .github:
            Terminal.write(
                report.github(head: catalog, base: baseline.locations, baseRoot: against, headRoot: config)
                    + (live.map { "::notice title=live on the server::\(DiagnosticReport.escapeData($0))\n" } ?? ""))
        }
        if !change.isEmpty { throw ExitCode(2) }
    }
}

extension PlanCommand {
    /// The registry and the applied catalog of the data directory, or of the database.
    static func store(_ store: StoreChoice, data: String) async throws -> PlanBaseline {
        let registry: Registry
        let applied: AppliedCatalog?
        switch store {
        case .files:
            let directory = DataDirectory(data)
            do {
                registry = try Registry.load(from: directory)
                applied = try AppliedCatalog.load(from: directory)
            } catch {
                Terminal.error("cannot read the data directory '\(data)': \(error)")
                throw ExitCode.failure
            }
            if !FileManager.default.fileExists(atPath: "\(directory.path)/registry.json") {
                Terminal.note("no registry.json in '\(data)': every check would be created (is --data right?)")
            } else if applied == nil {
                Terminal.note("no catalog.json in '\(data)' (written by servers since hot reload): renames and setting changes cannot be shown")
            }
        case .postgres(let location):
            let database: PostgresStore
            do throws(StatusReport.Failure) {
                database = try await ReportDatabase.open(location)
            } catch {
                Terminal.error(error.message)
                throw ExitCode.failure
            }
            do {
                registry = try await database.loadRegistry()
                applied = try await database.loadAppliedCatalog()
            } catch {
                await database.closeConnections()
                Terminal.error("cannot read \(database.location): \(error)")
                throw ExitCode.failure
            }
            await database.closeConnections()
            if registry.checks.isEmpty && registry.retired.isEmpty {
                Terminal.note("no checks in \(location) yet: every check would be created (is --store right?)")
            } else if applied == nil {
                Terminal.note("no applied configuration in \(location): renames and setting changes cannot be shown")
            }
        }
        return PlanBaseline(registry: registry, applied: applied)
    }

    /// The baseline of the configuration under `path` (`--against`): it must load as a server
    /// would load it, or its diagnostics are shown.
    static func configuration(_ path: String) throws -> PlanBaseline {
        let base: LoadResult
        do {
            base = try ConfigLoader.load(directory: path, drafts: .keptUntilExit)
        } catch {
            Terminal.error("--against: \(error.message)")
            throw ExitCode.failure
        }
        guard base.isValid else {
            FileHandle.standardError.write(Data(DiagnosticReport(base, strict: false).render(.text).utf8))
            Terminal.error("--against: the configuration in '\(path)' is invalid (errors above), so it cannot be planned against; a server would not have applied it either")
            throw ExitCode.failure
        }
        return PlanBaseline.configuration(base.catalog)
    }
}

enum PlanFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, markdown, github
}
