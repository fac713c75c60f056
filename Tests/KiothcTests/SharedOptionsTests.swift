import Foundation
import Testing

/// `--config`, `--data` and `--base-url`, declared once and shared: each command keeps exactly
/// the ones it had, each reads the same in every help, and each still comes from its flag, else
/// its `KIOTHC_*` variable, else its default.
@Suite("kiothc's shared options")
struct SharedOptionsTests {
    static let shared = ["--config", "--data", "--base-url"]

    /// Each shared option's help line(s) in `command --help`, by flag, continuation lines joined.
    static func sharedOptions(_ command: String) async throws -> [String: String] {
        let help = try await CLI.run([command, "--help"], environment: ["COLUMNS": "100"])
        #expect(help.status == 0, "\(command) --help: \(help.stderr)")
        let options = help.stdout.components(separatedBy: "OPTIONS:").last ?? ""
        var found: [String: String] = [:]
        var current: String?
        for line in options.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  -") {
                let flag = String(line.dropFirst(2).prefix { $0 != " " })
                current = Self.shared.contains(flag) ? flag : nil
                if let current { found[current] = line.trimmingCharacters(in: .whitespaces) }
            } else if let flag = current, line.hasPrefix("      ") {
                found[flag]! += " " + line.trimmingCharacters(in: .whitespaces)
            } else {
                current = nil
            }
        }
        return found
    }

    @Test("each command lists exactly the shared options it had: check --config, pings --data, plan, status and serve all three", arguments: [
        ("check", ["--config"]),
        ("pings", ["--data"]),
        ("plan", ["--config", "--data", "--base-url"]),
        ("status", ["--config", "--data", "--base-url"]),
        ("serve", ["--config", "--data", "--base-url"]),
        ("run", []), ("pause", []), ("resume", []), ("slug", []), ("schedule", []),
    ])
    func presence(command: String, expected: [String]) async throws {
        let options = try await Self.sharedOptions(command)
        #expect(Set(options.keys) == Set(expected), "\(command): \(options.keys.sorted())")
    }

    @Test("each shared option has one help text, the same in every command that has it")
    func oneHelpText() async throws {
        var texts: [String: Set<String>] = [:]
        for command in ["check", "pings", "plan", "status", "serve"] {
            for (flag, text) in try await Self.sharedOptions(command) { texts[flag, default: []].insert(text) }
        }
        for flag in Self.shared {
            #expect(texts[flag]?.count == 1, "\(flag): \(texts[flag]?.sorted() ?? [])")
        }
    }

    @Test("KIOTHC_CONFIG is honoured (check) and --config wins over it")
    func configVariable() async throws {
        let variable = try await CLI.run(["check"], environment: ["KIOTHC_CONFIG": "/nonexistent/kiothc-env-config"])
        #expect(variable.status == 1)
        #expect(variable.stderr.contains("config directory '/nonexistent/kiothc-env-config' does not exist"), "\(variable.stderr)")
        let flag = try await CLI.run(["check", "--config", "/nonexistent/kiothc-flag-config"], environment: ["KIOTHC_CONFIG": "/nonexistent/kiothc-env-config"])
        #expect(flag.status == 1)
        #expect(flag.stderr.contains("config directory '/nonexistent/kiothc-flag-config' does not exist"), "\(flag.stderr)")
        #expect(!flag.stderr.contains("kiothc-env-config"))
    }

    @Test("KIOTHC_DATA is honoured (pings) and --data wins over it")
    func dataVariable() async throws {
        let variable = try await CLI.run(["pings", "ops/backup"], environment: ["KIOTHC_DATA": "/nonexistent/kiothc-env-data"])
        #expect(variable.status == 1)
        #expect(variable.stderr.contains("no data directory at '/nonexistent/kiothc-env-data'"), "\(variable.stderr)")
        let flag = try await CLI.run(["pings", "ops/backup", "--data", "/nonexistent/kiothc-flag-data"], environment: ["KIOTHC_DATA": "/nonexistent/kiothc-env-data"])
        #expect(flag.status == 1)
        #expect(flag.stderr.contains("no data directory at '/nonexistent/kiothc-flag-data'"), "\(flag.stderr)")
        #expect(!flag.stderr.contains("kiothc-env-data"))
    }

    @Test("KIOTHC_BASE_URL is honoured (plan) and --base-url wins over it")
    func baseURLVariable() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-shared-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("checks.d")
        let data = root.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data("projects:\n  ops: {}\nchecks:\n  backup: {project: ops, name: Backup, timeout: 1h}\n".utf8)
            .write(to: config.appendingPathComponent("checks.yaml"))
        let plan = ["plan", "--config", config.path, "--data", data.path]

        let variable = try await CLI.run(plan, environment: ["KIOTHC_BASE_URL": "https://env.example.com"])
        #expect(variable.status == 2, "\(variable.stderr)")
        #expect(variable.stdout.contains("https://env.example.com/ping/<ops-ping-key>/backup"), "\(variable.stdout)")
        let flag = try await CLI.run(plan + ["--base-url", "https://flag.example.com"], environment: ["KIOTHC_BASE_URL": "https://env.example.com"])
        #expect(flag.status == 2, "\(flag.stderr)")
        #expect(flag.stdout.contains("https://flag.example.com/ping/<ops-ping-key>/backup"), "\(flag.stdout)")
        #expect(!flag.stdout.contains("env.example.com"))
        let neither = try await CLI.run(plan, environment: ["KIOTHC_BASE_URL": ""])
        #expect(neither.stdout.contains("  /ping/<ops-ping-key>/backup"), "\(neither.stdout)")
    }
}
