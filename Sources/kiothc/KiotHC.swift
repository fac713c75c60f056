import ArgumentParser
import Runtime

@main
struct KiotHC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kiothc",
        abstract: "KiotHealthChecks: heartbeat and cron-job monitoring, with checks declared as code.",
        discussion: """
            Checks and projects are declared in YAML files under a config directory (default \
            ./checks.d). Lint them offline with 'kiothc check'; see each subcommand's --help.

            Options with an environment variable name it in their help, as (env: KIOTHC_…). A \
            flag wins over its variable; a variable is checked as its flag is, and an invalid \
            one is a usage error (exit 64) naming it; an empty one counts as unset. The values \
            of \(EnvironmentVariable.allCases.filter(\.isSecret).map(\.rawValue).joined(separator: ", ")) \
            are secrets: no help, error or log prints them.
            """,
        version: BuildInfo.line,
        subcommands: [
            CheckCommand.self,
            PlanCommand.self,
            SlugCommand.self,
            ServeCommand.self,
            RunCommand.self,
            ScheduleCommand.self,
            StatusCommand.self,
            PingsCommand.self,
            PauseCommand.self,
            ResumeCommand.self,
            NotifyCommand.self,
            ImportCommand.self,
            StoreCommand.self,
        ]
    )
}

