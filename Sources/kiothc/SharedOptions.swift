import ArgumentParser

// The options several commands share, each declared once with one help text and used through
// `@OptionGroup`, so a command has exactly the ones it names. Each resolves as every option
// does: the flag, else its `KIOTHC_*` variable, else the default.

/// `--config`: check, plan, status, serve.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: Settings.config.help("The config directory: every *.yaml and *.yml file under it.", valueName: "dir"))
    var config: String?

    func resolved(_ environment: Environment) throws -> String {
        try environment.value(config, Settings.config)
    }
}

/// `--data`: plan, status, pings, serve.
struct DataOption: ParsableArguments {
    @Option(name: .long, help: Settings.data.help("The server's data directory: pings, flips, UUID registry, generated keys.", valueName: "dir"))
    var data: String?

    func resolved(_ environment: Environment) throws -> String {
        try environment.value(data, Settings.data)
    }
}

/// `--base-url`: plan, status, serve. No default: without it plan and status show ping URLs as
/// paths, and serve prints them with the address it listens on.
struct BaseURLOption: ParsableArguments {
    @Option(name: .customLong("base-url"), help: Settings.baseURL.help("Public URL of the server, for full ping URLs.", valueName: "url"))
    var baseURL: String?

    func resolved(_ environment: Environment) throws -> String? {
        try environment.optional(baseURL, Settings.baseURL)
    }
}
