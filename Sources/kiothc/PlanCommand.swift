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

            Exit status: 0 nothing would change; 2 something would (as terraform plan \
            -detailed-exitcode); 1 the configuration is invalid or the data directory or \
            database cannot be read (also a database without the kiothc schema: nothing is \
            created); 64 usage error.

            Examples:
              kiothc plan --config checks.d --data /var/lib/kiothc
              kiothc plan --format json | jq '.deleted[].broken_urls[]'
              kiothc plan --base-url https://hc.example.com
              kiothc plan --store postgres://kiothc@db.example.com/kiothc?sslmode=require
            """
    )

    @OptionGroup var config: ConfigOption

    @OptionGroup var data: DataOption

    @OptionGroup var store: StoreOption

    @Option(name: .long, help: "Output format: text or json.")
    var format: PlanFormat = .text

    @OptionGroup var baseURL: BaseURLOption

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
            } else {
                FileHandle.standardError.write(Data(report.render(.text).utf8))
            }
            Terminal.error(
                "the configuration is invalid, so it cannot be applied: nothing to plan. A running server rejects it and keeps "
                    + "serving the configuration it last applied ('kiothc status' shows that one). Fix the errors above ('kiothc check' lists them)")
            throw ExitCode.failure
        }
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
        let pins = PinnedUUIDs.conflicts(result.catalog, registry: registry)
        if !pins.isEmpty {
            FileHandle.standardError.write(Data(DiagnosticReport(result.adding(pins), strict: false).render(.text).utf8))
            throw ExitCode.failure
        }
        let change = CatalogChange.between(previous: applied, registry: registry, catalog: result.catalog)
        let report = CatalogChangeReport(change, urls: PingURLFormat(base: baseURL))
        let maintenance = MaintenancePlan(result.catalog, now: Int64(Date().timeIntervalSince1970 * 1_000_000))
        if format == .json {
            Terminal.write(PlanDocument(change: report.document, maintenance: maintenance).json())
        } else {
            Terminal.write(report.text() + (maintenance.declared ? "\n" + maintenance.text() : ""))
        }
        if !change.isEmpty { throw ExitCode(2) }
    }
}

enum PlanFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
