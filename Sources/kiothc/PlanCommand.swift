import ArgumentParser
import CheckCatalog
import Foundation
import PingStore
import Runtime

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what loading the configuration into the data directory would do.",
        discussion: """
            Compares the configuration under --config with what the server last applied from \
            the data directory (registry.json, catalog.json): checks created, deleted (with the \
            UUID and slug URLs that will answer 404), renamed (old slug URL -> new), changed \
            settings, new slug conflicts. Reads the data directory, never writes it; resolves no \
            secrets (ping keys appear as <PROJECT-ping-key>).

            Exit status: 0 nothing would change; 2 something would (as terraform plan \
            -detailed-exitcode); 1 the configuration is invalid or the data directory cannot be \
            read; 64 usage error.

            Examples:
              kiothc plan --config checks.d --data /var/lib/kiothc
              kiothc plan --format json | jq '.deleted[].broken_urls[]'
              kiothc plan --base-url https://hc.example.com
            """
    )

    @OptionGroup var config: ConfigOption

    @OptionGroup var data: DataOption

    @Option(name: .long, help: "Output format: text or json.")
    var format: PlanFormat = .text

    @OptionGroup var baseURL: BaseURLOption

    func run() throws {
        let environment = Environment()
        let config = try self.config.resolved(environment)
        let data = try self.data.resolved(environment)
        let baseURL = try self.baseURL.resolved(environment)
        let result: LoadResult
        do {
            result = try ConfigLoader.load(directory: config)
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
        let directory = DataDirectory(data)
        let registry: Registry
        let applied: AppliedCatalog?
        do {
            registry = try Registry.load(from: directory)
            applied = try AppliedCatalog.load(from: directory)
        } catch {
            Terminal.error("cannot read the data directory '\(data)': \(error)")
            throw ExitCode.failure
        }
        if !FileManager.default.fileExists(atPath: "\(directory.path)/registry.json") {
            FileHandle.standardError.write(Data("kiothc: note: no registry.json in '\(data)': every check would be created (is --data right?)\n".utf8))
        } else if applied == nil {
            FileHandle.standardError.write(Data("kiothc: note: no catalog.json in '\(data)' (written by servers since hot reload): renames and setting changes cannot be shown\n".utf8))
        }
        let change = CatalogChange.between(previous: applied, registry: registry, catalog: result.catalog)
        let report = CatalogChangeReport(change, urls: PingURLFormat(base: baseURL))
        Terminal.write(format == .json ? report.json() : report.text())
        if !change.isEmpty { throw ExitCode(2) }
    }
}

enum PlanFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
