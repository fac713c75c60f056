import ArgumentParser

@main
struct KiotHC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kiothc",
        abstract: "KiotHealthChecks: heartbeat and cron-job monitoring, with checks declared as code.",
        discussion: """
            Checks and projects are declared in YAML files under a config directory (default \
            ./checks.d). Lint them offline with 'kiothc check'; see each subcommand's --help.
            """,
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
        ]
    )
}
