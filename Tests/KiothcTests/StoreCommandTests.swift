import Foundation
import Testing
import TestSupport

/// `kiothc status|pings|plan --store postgres://…` and `kiothc store copy` on a data directory
/// a real server wrote and a real PostgreSQL: the database reads print what the files print,
/// the copy goes both ways and is verified, and reading an empty database creates nothing.
@Suite("kiothc store copy and --store", .serialized, .stopsServers)
struct StoreCommandTests {
    static let config = """
        projects:
          ops:
            api_keys: {read_write: ops-read-write-key-0001}
            channels:
              oncall: {kind: webhook, url: "http://127.0.0.1:9/x"}
        checks:
          backup: {project: ops, name: Backup, timeout: 1h, tags: [prod]}
          nightly: {project: ops, name: Nightly, timeout: 1h}
          gone: {project: ops, name: Gone, timeout: 1h}

        """

    static func database() async throws -> String? {
        do {
            return try await SharedPostgres.database("cli")
        } catch is SharedPostgres.Unavailable {
            return nil
        }
    }

    static func tables(_ url: String) async throws -> String {
        let name = String(url.split(separator: "?")[0].split(separator: "/").last!)
        return try await onOwnThread {
            try SharedPostgres.cluster().psql(database: name, command: "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        }.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("status, pings and plan with --store print what --data prints after store copy; the copy back too; an empty database is refused and left empty")
    func copyAndRead() async throws {
        guard let url = try await Self.database() else { return }
        let server = try await RunningServer(files: ["checks.yaml": Self.config])
        defer { server.terminate() }
        let (backup, gone) = (try server.uuid("ops", "backup"), try server.uuid("ops", "gone"))
        #expect(try await Curl.request(server.baseURL + "/ping/\(backup)/start").status == 200)
        #expect(try await Curl.request(server.baseURL + "/ping/\(backup)", method: "POST", body: "héllo wörld ✓").status == 200)
        let nul = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-nul-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: nul) }
        try Data("exit 1\u{0}after".utf8).write(to: nul)
        #expect(try await Curl.request(server.baseURL + "/ping/\(backup)/fail", method: "POST", extra: ["--data-binary", "@\(nul.path)"]).status == 200)
        #expect(try await Curl.request(server.baseURL + "/ping/\(try server.uuid("ops", "nightly"))").status == 200)
        let pause = try await CLI.run(["pause", "ops/nightly", "--server", server.baseURL, "--api-key", "ops-read-write-key-0001"])
        #expect(pause.status == 0, "\(pause.stderr)")
        #expect(try await Curl.request(server.baseURL + "/ping/\(gone)", method: "POST", body: "bye").status == 200)
        try server.write("checks.yaml", Self.config.replacingOccurrences(of: "  gone: {project: ops, name: Gone, timeout: 1h}\n", with: ""))
        try await server.waitUntil("the removed check's pings are in retired/") {
            FileManager.default.fileExists(atPath: server.data.appendingPathComponent("retired/\(gone).jsonl").path)
        }
        #expect(await server.stop() == 0)
        let (config, data) = (server.config.path, server.data.path)

        // Read-only commands on a database without the schema: refused, nothing created.
        for arguments in [["status", "--config", config], ["pings", "ops/backup"], ["plan", "--config", config]] {
            let refused = try await CLI.run(arguments + ["--store", url])
            #expect(refused.status == 1, "\(arguments): \(refused.stdout)")
            #expect(refused.stderr.contains("kiothc: error: no kiothc schema in database '"), "\(refused.stderr)")
            #expect(refused.stderr.contains("start `kiothc serve --store …` on it once"))
        }
        #expect(try await Self.tables(url) == "0", "a read-only command created tables")

        let copy = try await CLI.run(["store", "copy", "--from", data, "--to", url])
        #expect(copy.status == 0, "\(copy.stdout)\(copy.stderr)")
        #expect(copy.stdout.hasPrefix("CHECK "))
        #expect(copy.stdout.split(separator: "\n").filter { $0.hasPrefix("ops/") && $0.hasSuffix("  ok") }.count == 3, "\(copy.stdout)")
        #expect(copy.stderr.contains("and verified it: 3 checks match"))
        #expect(copy.stdout.contains("alerts pending: 1\n"), "the alert of the fail, its webhook unreachable: \(copy.stdout)")

        func same(_ arguments: [String], _ directory: String, environment: [String: String] = [:]) async throws {
            let files = try await CLI.run(arguments + ["--data", directory])
            let database = try await CLI.run(arguments + (environment.isEmpty ? ["--store", url] : []), environment: environment)
            #expect(files.status == database.status, "\(arguments)")
            #expect(files.stdout == database.stdout, "\(arguments): --data and --store print differently")
            #expect(!files.stdout.isEmpty)
        }
        try await same(["status", "--config", config, "--format", "json"], data)
        try await same(["status", "--config", config, "--format", "json"], data, environment: ["KIOTHC_STORE": url])
        for check in ["ops/backup", backup, "ops/nightly"] {
            try await same(["pings", check], data)
            try await same(["pings", check, "--format", "json"], data)
        }
        try await same(["pings", gone, "--format", "json"], data)
        try await same(["plan", "--config", config, "--format", "json"], data)
        let retired = try await CLI.run(["pings", "ops/gone", "--store", url])
        #expect(retired.stdout.hasPrefix("retired check ops/gone (\(gone)), removed from the configuration "))
        #expect(retired.stdout.contains("; its pings are kept in the database\n"))
        let status = try await CLI.run(["status", "--config", config, "--store", url])
        #expect(status.stdout.contains("paused") && status.stdout.contains("down"), "\(status.stdout)")

        // And back into a new directory, which reads as the original.
        let back = server.data.path + "-back"
        defer { try? FileManager.default.removeItem(atPath: back) }
        let copyBack = try await CLI.run(["store", "copy", "--from", url, "--to", back])
        #expect(copyBack.status == 0, "\(copyBack.stdout)\(copyBack.stderr)")
        let original = try await CLI.run(["status", "--config", config, "--data", data, "--format", "json"])
        #expect(try await CLI.run(["status", "--config", config, "--data", back, "--format", "json"]).stdout == original.stdout)
        #expect(try await CLI.run(["pings", "ops/gone", "--data", back]).stdout == (try await CLI.run(["pings", "ops/gone", "--data", data]).stdout))

        // Invalid files: both show the configuration last applied, with the same warning.
        try server.write("checks.yaml", Self.config + "  broken: {scheduel: daily}\n")
        try await same(["status", "--config", config, "--format", "json"], data)
        let fallback = try await CLI.run(["status", "--config", config, "--store", url])
        #expect(fallback.status == 0)
        #expect(fallback.stderr.contains("kiothc: warning: ") && fallback.stderr.contains("showing the configuration last applied by the server"), "\(fallback.stderr)")

        // Usage errors and a refused target.
        let twice = try await CLI.run(["store", "copy", "--from", data, "--to", url])
        #expect(twice.status == 1)
        #expect(twice.stderr.contains("is not empty (3 checks, "), "\(twice.stderr)")
        let sameKind = try await CLI.run(["store", "copy", "--from", data, "--to", back])
        #expect(sameKind.status == 64)
        #expect(sameKind.stderr.contains("--from and --to must be a data directory and a postgres:// URL (either way round)"))
    }

    @Test("an unreachable database is named without its password; a --store that is not a URL is a usage error")
    func unreachable() async throws {
        let url = "postgres://kiothc:SECRET-pw-0001@127.0.0.1:1/kiothc?sslmode=disable"
        for arguments in [["status"], ["pings", "ops/backup"], ["plan"]] {
            let output = try await CLI.run(arguments + ["--store", url])
            #expect(output.status == 1, "\(arguments)")
            #expect(output.stderr.hasPrefix("kiothc: error: cannot connect to postgres://kiothc:***@127.0.0.1:1/kiothc?sslmode=disable in PostgreSQL: the database cannot be reached ("), "\(output.stderr)")
            #expect(!output.stderr.contains("SECRET") && !output.stdout.contains("SECRET"))
        }
        let copy = try await CLI.run(["store", "copy", "--from", url, "--to", FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-never-\(UUID().uuidString)").path])
        #expect(copy.status == 1)
        #expect(copy.stderr.contains("postgres://kiothc:***@127.0.0.1:1/kiothc") && !copy.stderr.contains("SECRET"), "\(copy.stderr)")
        let usage = try await CLI.run(["status", "--store", "mysql://x@y/z"])
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("--store must be 'file' (the data directory) or a postgres:// URL"))
    }
}
