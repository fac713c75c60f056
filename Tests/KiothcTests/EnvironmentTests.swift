import Foundation
import Testing
import TestSupport

/// The `KIOTHC_*` variables, through the built binary: help never shows their values, a wrong
/// one is a usage error naming it, a right one is honoured, and a flag wins over it.
@Suite("kiothc reads KIOTHC_* variables as it reads flags", .serialized, .stopsServers)
struct EnvironmentTests {
    /// Every `KIOTHC_*` name in the sources (the CLI's table, and the server's test-only ones):
    /// found, not listed here, so a variable added later is covered without touching this test.
    static func knownVariables() throws -> Set<String> {
        let sources = CLI.repository.appendingPathComponent("Sources")
        let pattern = try Regex("KIOTHC_[A-Z0-9_]*[A-Z0-9]")
        var names = Set<String>()
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        while let file = files?.nextObject() as? URL {
            guard file.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: pattern) { names.insert(String(text[match.range])) }
        }
        return names
    }

    /// The subcommands `kiothc --help` lists.
    static func subcommands() async throws -> [String] {
        let help = try await CLI.run(["--help"], environment: ["COLUMNS": "100"])
        guard let section = help.stdout.components(separatedBy: "SUBCOMMANDS:").last else { return [] }
        return section.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), let word = line.split(separator: " ").first, word.first?.isLetter == true else { return nil }
            return String(word)
        }
    }

    static let serveNowhere = ["serve", "--config", "/nonexistent/kiothc-checks.d", "--data", "/nonexistent/kiothc-data"]
    static let uuid = "6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01"

    @Test("no --help prints the value of any KIOTHC_* variable, and each help names the variables it reads")
    func helpShowsNoValues() async throws {
        let names = try Self.knownVariables()
        for name in ["KIOTHC_API_KEY", "KIOTHC_PING_KEY", "KIOTHC_CONFIG", "KIOTHC_MAX_REQUEST_BODY"] {
            #expect(names.contains(name), "the scan of Sources/ finds \(name)")
        }
        let markers = Dictionary(uniqueKeysWithValues: names.map { ($0, "SECRET-MARKER-\($0)") })
        let commands = try await Self.subcommands()
        #expect(commands.count >= 10 && commands.contains("pause") && commands.contains("serve"), "subcommands: \(commands)")
        var allHelp = ""
        for command in [[]] + commands.map({ [$0] }) {
            let help = try await CLI.run(command + ["--help"], environment: markers)
            let shown = (["kiothc"] + command).joined(separator: " ")
            #expect(help.status == 0, "\(shown) --help: \(help.stderr)")
            #expect(!help.stdout.isEmpty)
            for text in [help.stdout, help.stderr] where text.contains("SECRET-MARKER") {
                let line = text.split(separator: "\n").first { $0.contains("SECRET-MARKER") } ?? ""
                Issue.record("\(shown) --help prints a variable's value: \(line)")
            }
            // Lines are wrapped anywhere: compare with single spaces.
            allHelp += help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ") + " "
        }
        // Every variable the CLI reads is named in some help (so in docs/cli.md too).
        let cli = try String(contentsOf: CLI.repository.appendingPathComponent("Sources/kiothc/EnvironmentVariable.swift"), encoding: .utf8)
        let read = names.filter { cli.contains("\"\($0)\"") }
        #expect(read.count >= 20, "the CLI's table: \(read.sorted())")
        for name in read.sorted() {
            #expect(allHelp.contains("env: \(name)"), "no help names \(name)")
        }
        #expect(allHelp.contains("(env: KIOTHC_KEEP_PINGS; default: 1000)"))
        #expect(allHelp.contains("(env: KIOTHC_API_KEY)"))
    }

    @Test("an invalid variable exits 64 naming it and the values it accepts", arguments: [
        (EnvironmentTests.serveNowhere, "KIOTHC_DURABILITY", "bogus", "KIOTHC_DURABILITY='bogus' is not valid; expected one of: fsync, write"),
        (EnvironmentTests.serveNowhere, "KIOTHC_KEEP_PINGS", "abc", "KIOTHC_KEEP_PINGS='abc' is not valid; expected an integer of at least 1"),
        (EnvironmentTests.serveNowhere, "KIOTHC_KEEP_PINGS", "0", "KIOTHC_KEEP_PINGS='0' is not valid; expected an integer of at least 1"),
        (EnvironmentTests.serveNowhere, "KIOTHC_WATCH_CONFIG", "maybe", "KIOTHC_WATCH_CONFIG='maybe' is not valid; expected true, false, 1, 0, yes or no (in any case)"),
        (EnvironmentTests.serveNowhere, "KIOTHC_MAX_REQUEST_BODY", "-1", "KIOTHC_MAX_REQUEST_BODY='-1' is not valid; expected a number of bytes, 0 or more"),
        (EnvironmentTests.serveNowhere, "KIOTHC_MAX_REQUEST_BODY", "10MB", "KIOTHC_MAX_REQUEST_BODY='10MB' is not valid"),
        (EnvironmentTests.serveNowhere, "KIOTHC_IDLE_TIMEOUT", "0", "KIOTHC_IDLE_TIMEOUT='0' is not valid; expected a whole number of seconds from 1 to 86400"),
        (EnvironmentTests.serveNowhere, "KIOTHC_HEADER_TIMEOUT", "soon", "KIOTHC_HEADER_TIMEOUT='soon' is not valid; expected a whole number of seconds from 1 to 86400"),
        (EnvironmentTests.serveNowhere, "KIOTHC_MAX_CONNECTIONS", "many", "KIOTHC_MAX_CONNECTIONS='many' is not valid; expected an integer of at least 1"),
        (EnvironmentTests.serveNowhere, "KIOTHC_RELOAD_POLL", "-1", "KIOTHC_RELOAD_POLL='-1' is not valid; expected a number of seconds up to 86400, 0 to turn the poll off"),
        (EnvironmentTests.serveNowhere, "KIOTHC_TLS_RELOAD_POLL", "often", "KIOTHC_TLS_RELOAD_POLL='often' is not valid; expected a number of seconds up to 86400, 0 to turn the poll off"),
        (EnvironmentTests.serveNowhere, "KIOTHC_LOG_LEVEL", "loud", "KIOTHC_LOG_LEVEL='loud' is not valid; expected one of: trace, debug, info, notice, warning, error, critical"),
        (EnvironmentTests.serveNowhere, "KIOTHC_LISTEN", "127.0.0.1:8000,localhost", "KIOTHC_LISTEN='127.0.0.1:8000,localhost' is not valid; expected HOST:PORT"),
        (["run", "--uuid", EnvironmentTests.uuid, "--", "true"], "KIOTHC_TIMEOUT", "soon", "KIOTHC_TIMEOUT='soon' is not valid; expected a number of seconds greater than 0"),
        (["run", "--uuid", EnvironmentTests.uuid, "--", "true"], "KIOTHC_ATTEMPTS", "0", "KIOTHC_ATTEMPTS='0' is not valid; expected an integer of at least 1"),
        (["run", "--uuid", EnvironmentTests.uuid, "--", "true"], "KIOTHC_SERVER", "ftp://hc.example.com", "KIOTHC_SERVER='ftp://hc.example.com' is not valid; expected an http:// or https:// URL"),
        (["pause", "ops/backup", "--api-key", "k"], "KIOTHC_SERVER", "hc.example.com", "KIOTHC_SERVER='hc.example.com' is not valid; expected an http:// or https:// URL"),
    ])
    func invalidVariable(arguments: [String], variable: String, value: String, message: String) async throws {
        let output = try await CLI.run(arguments, environment: [variable: value])
        #expect(output.status == 64, "\(variable)=\(value): \(output.stderr)")
        #expect(output.stderr.contains(message), "\(output.stderr)")
    }

    @Test("a flag is checked by the same rules as its variable", arguments: [
        (["--keep-pings", "0"], "--keep-pings '0' is not valid; expected an integer of at least 1"),
        (["--idle-timeout", "100000"], "--idle-timeout '100000' is not valid; expected a whole number of seconds from 1 to 86400"),
        (["--listen", "localhost"], "--listen 'localhost' is not valid; expected HOST:PORT"),
        (["--reload-poll", "inf"], "--reload-poll 'inf' is not valid"),
    ])
    func invalidFlag(flags: [String], message: String) async throws {
        let output = try await CLI.run(Self.serveNowhere + flags)
        #expect(output.status == 64, "\(flags): \(output.stderr)")
        #expect(output.stderr.contains(message), "\(output.stderr)")
    }

    @Test("a flag wins over its variable, even over a wrong one (which is then not read)")
    func flagWins() async throws {
        // The config directory does not exist: exit 1 after the options were accepted.
        let output = try await CLI.run(
            Self.serveNowhere + ["--durability", "write", "--keep-pings", "5", "--no-watch-config"],
            environment: ["KIOTHC_DURABILITY": "bogus", "KIOTHC_KEEP_PINGS": "abc", "KIOTHC_WATCH_CONFIG": "maybe"])
        #expect(output.status == 1, "\(output.stderr)")
        #expect(output.stderr.contains("config directory '/nonexistent/kiothc-checks.d' does not exist"))
        // An empty variable counts as unset.
        let empty = try await CLI.run(Self.serveNowhere, environment: ["KIOTHC_DURABILITY": "", "KIOTHC_LISTEN": ""])
        #expect(empty.status == 1, "\(empty.stderr)")
    }

    @Test("the value of a secret variable is not printed, not even when it is rejected")
    func secretsInErrors() async throws {
        let noCheck = try await CLI.run(["run", "--", "true"], environment: ["KIOTHC_UUID": "SECRET-MARKER-uuid"])
        #expect(noCheck.status == 64)
        #expect(noCheck.stderr.contains("KIOTHC_UUID is not valid (a secret: its value is not shown); expected a UUID"), "\(noCheck.stderr)")
        let badURL = try await CLI.run(["run", "--", "true"], environment: ["KIOTHC_PING_URL": "SECRET-MARKER-url"])
        #expect(badURL.status == 64)
        #expect(badURL.stderr.contains("KIOTHC_PING_URL is not valid (a secret: its value is not shown); expected an http:// or https:// ping URL"))
        let badFlag = try await CLI.run(["run", "--uuid", "SECRET-MARKER-flag", "--", "true"])
        #expect(badFlag.status == 64)
        #expect(badFlag.stderr.contains("--uuid is not valid; expected a UUID"))
        // Valid secrets, and a server that cannot be reached: warnings and errors, no secret.
        let unreachable = "http://127.0.0.1:9"
        let run = try await CLI.run(
            ["run", "--server", unreachable, "--slug", "backup", "--attempts", "1", "--", "true"], environment: ["KIOTHC_PING_KEY": "SECRET-MARKER-pingkey"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("was not delivered"))
        let pause = try await CLI.run(["pause", "ops/backup", "--server", unreachable], environment: ["KIOTHC_API_KEY": "SECRET-MARKER-apikey"])
        #expect(pause.status == 1)
        #expect(pause.stderr.contains("cannot reach the server"))
        for output in [noCheck, badURL, badFlag, run, pause] {
            #expect(!(output.stdout + output.stderr).contains("SECRET-MARKER"), "\(output.stderr)")
        }
    }

    @Test("--smtp and its companions are checked before anything starts; the relay's password is never printed", arguments: [
        (["--smtp", "smtp://u:SECRET-MARKER@mail.example.com:587"], [:], "--smtp needs --smtp-from (or KIOTHC_SMTP_FROM), the sender of alert emails"),
        (["--smtp-from", "kiothc@example.com"], [:], "--smtp-from and --smtp-ca-file need --smtp (or KIOTHC_SMTP)"),
        (["--smtp", "smtp+plain://u:SECRET-MARKER@mail.example.com:25", "--smtp-from", "a@example.com"], [:], "--smtp: "),
        (["--smtp", "http://u:SECRET-MARKER@mail.example.com", "--smtp-from", "a@example.com"], [:], "--smtp: "),
        (["--smtp-from", "not an address"], ["KIOTHC_SMTP": "smtps://u:SECRET-MARKER@mail.example.com"], "--smtp-from: "),
        (["--smtp-from", "a@example.com", "--smtp-ca-file", "/nonexistent/ca.pem"], ["KIOTHC_SMTP": "smtps://u:SECRET-MARKER@mail.example.com"],
         "--smtp-ca-file: '/nonexistent/ca.pem' cannot be read"),
    ] as [([String], [String: String], String)])
    func smtpOptions(flags: [String], environment: [String: String], message: String) async throws {
        let output = try await CLI.run(Self.serveNowhere + flags, environment: environment)
        #expect(output.status == 64, "\(flags): \(output.stderr)")
        #expect(output.stderr.contains(message), "\(output.stderr)")
        #expect(!(output.stdout + output.stderr).contains("SECRET-MARKER"), "\(output.stderr)")
    }

    @Test("serve honours its variables, KIOTHC_MAX_REQUEST_BODY and KIOTHC_WATCH_CONFIG=no included; its flags win")
    func serveHonoursVariables() async throws {
        let files = ["checks.yaml": "projects:\n  ops: {}\nchecks:\n  backup: {project: ops, name: Backup, timeout: 1h}\n"]
        let body = String(repeating: "x", count: 200)
        let variables = [
            "KIOTHC_WATCH_CONFIG": "no", "KIOTHC_RELOAD_POLL": "0", "KIOTHC_DURABILITY": "write", "KIOTHC_KEEP_PINGS": "7",
            "KIOTHC_MAX_REQUEST_BODY": "100", "KIOTHC_IDLE_TIMEOUT": "30", "KIOTHC_HEADER_TIMEOUT": "4", "KIOTHC_MAX_CONNECTIONS": "50",
            // RunningServer gives --listen and --log-level: the flags win.
            "KIOTHC_LOG_LEVEL": "critical", "KIOTHC_LISTEN": "127.0.0.1:1",
        ]
        let server = try await RunningServer(files: files, environment: variables)
        defer { server.terminate() }
        let settings = try await server.waitFor(prefix: "settings: ")
        #expect(settings.hasPrefix("--listen 127.0.0.1:0 "), "\(settings)")
        #expect(settings.hasSuffix(
            "--durability write --keep-pings 7 --max-request-body 100 --idle-timeout 30 --header-timeout 4 --max-connections 50 --reload-poll 0 --no-watch-config --log-level info --log-format text"))
        let uuid = try server.uuid("ops", "backup")
        #expect(try await Curl.request("\(server.baseURL)/ping/\(uuid)", method: "POST", body: body).status == 413)
        #expect(!server.output.contains("(inotify)"), "no inotify watch with KIOTHC_WATCH_CONFIG=no")
        #expect(await server.stop() == 0)

        // Flags over variables; booleans in any case.
        let flagged = try await RunningServer(
            files: files, arguments: ["--max-request-body", "1000", "--durability", "fsync"],
            environment: ["KIOTHC_MAX_REQUEST_BODY": "100", "KIOTHC_DURABILITY": "bogus", "KIOTHC_WATCH_CONFIG": "YES"])
        defer { flagged.terminate() }
        let flaggedSettings = try await flagged.waitFor(prefix: "settings: ")
        #expect(flaggedSettings.contains("--durability fsync --keep-pings 1000 --max-request-body 1000 "), "\(flaggedSettings)")
        #expect(flaggedSettings.contains(" --watch-config "))
        let flaggedUUID = try flagged.uuid("ops", "backup")
        #expect(try await Curl.request("\(flagged.baseURL)/ping/\(flaggedUUID)", method: "POST", body: body).status == 200)
        _ = try await flagged.waitFor(prefix: "(inotify)")
        #expect(await flagged.stop() == 0)
    }
}
