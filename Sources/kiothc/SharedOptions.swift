import ArgumentParser
import Runtime

// The options several commands share, each declared once with one help text and used through
// `@OptionGroup`, so a command has exactly the ones it names. Each resolves as every option
// does: the flag, else its `KIOTHC_*` variable, else the default.

/// `--config`: check, plan, status, serve.
struct ConfigOption: ParsableArguments {
    @Option(
        name: .long,
        help: Settings.config.help("The configuration: a directory (every *.yaml and *.yml file under it) or one YAML file.", valueName: "dir|file"))
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

/// `--store`: plan, status, pings, serve. `file` (the data directory) or a PostgreSQL URL; a
/// refused URL is named with its password hidden, with the reason.
struct StoreOption: ParsableArguments {
    @Option(
        name: .long,
        help: Settings.store.help(
            "Where pings, flips, check states, UUIDs and the alert queue live: file (the --data directory, one server) or a PostgreSQL database several instances share: postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require (a Unix socket: postgres://USER@/DATABASE?host=/run/postgresql).",
            valueName: "file|url"))
    var store: String?

    func resolved(_ environment: Environment) throws -> StoreChoice {
        let variable = environment.variables[Settings.store.variable.rawValue].flatMap { $0.isEmpty ? nil : $0 }
        let (text, source) = store.map { ($0, Settings.store.flag) } ?? variable.map { ($0, Settings.store.variable.rawValue) } ?? ("file", "")
        do {
            return try StoreChoice(text)
        } catch {
            throw ValidationError("\(source): \(error)")
        }
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
