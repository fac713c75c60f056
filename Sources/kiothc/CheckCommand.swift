import ArgumentParser
import CheckCatalog
import Foundation

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Lint the configuration offline, as CI does.",
        discussion: """
            Reads every *.yaml and *.yml file under the config directory (or the one file \
            --config names) and reports every problem with its file:line:column, a stable \
            code and notes. Needs no server, no data directory and no secrets (unless \
            --resolve-secrets).

            Exit status: 0 valid; 1 errors (or warnings with --strict), or the directory or \
            file cannot be read; 64 usage error.

            Examples:
              kiothc check
              kiothc check --config deploy/checks.d --strict
              kiothc check --config kiothc.yaml
              kiothc check --format github        # annotations on a pull request
              kiothc check --format json | jq '.diagnostics[] | .code'
            """
    )

    @OptionGroup var config: ConfigOption

    @Option(name: .long, help: "Output format: text, json or github (workflow commands).")
    var format: OutputFormat = .text

    @Flag(name: .long, help: "Treat warnings (slug conflicts, empty slugs) as errors.")
    var strict = false

    @Flag(name: .long, help: "Also resolve every secret ({env:} and {file:}) and fail on missing ones, as 'serve' would.")
    var resolveSecrets = false

    func run() throws {
        let environment = Environment()
        let config = try self.config.resolved(environment)
        let result: LoadResult
        do {
            result = try ConfigLoader.load(directory: config, drafts: .keptUntilExit)
        } catch {
            Terminal.error(error.message)
            throw ExitCode.failure
        }
        var checked = result
        if resolveSecrets {
            let resolver = SecretResolver(environment: environment.variables)
            checked = result.adding(resolver.check(result.catalog))
        }
        let report = DiagnosticReport(checked, strict: strict)
        Terminal.write(report.render(format.reportFormat, colour: format == .text && Terminal.stdoutIsColourTerminal))
        Terminal.finish(status: report.passes ? ExitCode.success.rawValue : ExitCode.failure.rawValue)
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, github

    var reportFormat: DiagnosticReport.Format {
        switch self {
        case .text: .text
        case .json: .json
        case .github: .github
        }
    }
}
