import Foundation
import Testing

/// `kiothc notify PROJECT/CHANNEL` against a real `kiothc serve`. Its channels send to the
/// server itself, added by a reload once its port is known: `self` to `/-/healthy` (200 to
/// every method), `refusing` to `/api/v3/status/` (405 to a POST); `failing` is a command that
/// exits 3.
@Suite("kiothc notify", .serialized, .stopsServers)
struct NotifyCommandTests {
    static let rw = "ops-read-write-key-0001"

    static func config(selfURL base: String?) -> String {
        """
        projects:
          ops:
            api_keys: {read_only: ops-read-only-key-0001, read_write: ops-read-write-key-0001}
            channels:
              failing: {kind: command, command: "exit 3"}
        \(base.map { "      self: {kind: webhook, url: \"\($0)/-/healthy\"}\n      refusing: {kind: webhook, url: \"\($0)/api/v3/status/\"}" } ?? "")
          web:
            api_keys: {read_write: web-read-write-key-0001}
        checks:
          backup: {project: ops, timeout: 1h}
          site: {project: web, timeout: 1h}
        """
    }

    /// A server whose `self` and `refusing` channels point at itself.
    static func server() async throws -> RunningServer {
        let server = try await RunningServer(files: ["checks.yaml": config(selfURL: nil)])
        try server.write("checks.yaml", config(selfURL: server.baseURL))
        server.signal(SIGHUP)
        try await server.waitUntil("the reload brought the channels that send to the server itself") {
            let reply = try await Curl.request("\(server.baseURL)/api/v3/channels/", extra: ["-H", "X-Api-Key: \(rw)"])
            return reply.body.contains("\"refusing\"")
        }
        return server
    }

    func notify(_ server: RunningServer, _ arguments: [String], key: String = NotifyCommandTests.rw) async throws -> CLI.Output {
        try await CLI.run(["notify"] + arguments + ["--server", server.baseURL, "--api-key", key])
    }

    @Test("a delivered test prints its attempt (HTTP 200) and exits 0; about a check by key or UUID, it is listed with the check's notifications")
    func delivered() async throws {
        let server = try await Self.server()
        let byKey = try await notify(server, ["ops/self", "--check", "backup"])
        #expect(byKey.status == 0, "\(byKey.stderr)")
        #expect(byKey.stdout.contains("ops/self: attempt 1 at "), "\(byKey.stdout)")
        #expect(byKey.stdout.range(of: #": delivered in \d+\.\d\d s with HTTP 200\n"#, options: .regularExpression) != nil, "\(byKey.stdout)")
        #expect(byKey.stdout.hasSuffix("ops/self: test notification delivered\n"), "\(byKey.stdout)")
        #expect(byKey.stderr.isEmpty, "\(byKey.stderr)")

        let uuid = try server.uuid("ops", "backup")
        let byUUID = try await notify(server, ["ops/self", "--check", uuid.uppercased()])
        #expect(byUUID.status == 0, "\(byUUID.stderr)")
        let noCheck = try await notify(server, ["ops/self"])
        #expect(noCheck.status == 0, "\(noCheck.stderr)")

        let reply = try await Curl.request("\(server.baseURL)/api/v3/checks/\(uuid)/notifications/", extra: ["-H", "X-Api-Key: \(Self.rw)"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
        let listed = try #require(document["notifications"] as? [[String: Any]])
        #expect(listed.count == 2, "the two tests about the check, not the one about none: \(listed)")
        #expect(listed.allSatisfy { $0["test"] as? Bool == true && $0["channel"] as? String == "self" && $0["status"] as? String == "delivered" })
        #expect(await server.stop() == 0)
    }

    @Test("a failing channel: the attempt and its error are printed, exit 1 (HTTP status or exit status)")
    func failing() async throws {
        let server = try await Self.server()
        let refusing = try await notify(server, ["ops/refusing"])
        #expect(refusing.status == 1)
        #expect(refusing.stdout.range(of: #"ops/refusing: attempt 1 at \S+: failed in \d+\.\d\d s with HTTP 405: "#, options: .regularExpression) != nil, "\(refusing.stdout)")
        #expect(refusing.stderr.contains("kiothc: error: ops/refusing: the test notification was not delivered: the receiver answered HTTP 405"), "\(refusing.stderr)")

        let command = try await notify(server, ["ops/failing", "--check", "ops/backup"])
        #expect(command.status == 1)
        #expect(command.stdout.contains("failed in "), "\(command.stdout)")
        #expect(command.stdout.contains("with exit status 3: the command exited with status 3"), "\(command.stdout)")
        #expect(command.stderr.contains("ops/failing: the test notification was not delivered: the command exited with status 3"), "\(command.stderr)")
        #expect(await server.stop() == 0)
    }

    @Test("refusals: an unknown channel or project, another project's check, a read-only or wrong key exit 1 saying why")
    func refused() async throws {
        let server = try await Self.server()
        let unknown = try await notify(server, ["ops/nope"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no channel 'ops/nope' among the channels this API key can see: ops/failing, ops/refusing, ops/self"), "\(unknown.stderr)")
        let otherProject = try await notify(server, ["web/self"])
        #expect(otherProject.status == 1)
        #expect(otherProject.stderr.contains("no channel 'web/self'"), "\(otherProject.stderr)")
        let foreignCheck = try await notify(server, ["ops/self", "--check", try server.uuid("web", "site")])
        #expect(foreignCheck.status == 1)
        #expect(foreignCheck.stderr.contains("in project 'ops'"), "\(foreignCheck.stderr)")
        let unknownCheck = try await notify(server, ["ops/self", "--check", "nightly"])
        #expect(unknownCheck.status == 1)
        #expect(unknownCheck.stderr.contains("no check 'ops/nightly'"), "\(unknownCheck.stderr)")
        let readOnly = try await notify(server, ["ops/self"], key: "ops-read-only-key-0001")
        #expect(readOnly.status == 1)
        #expect(readOnly.stderr.contains("read_write"), "\(readOnly.stderr)")
        let wrong = try await notify(server, ["ops/self"], key: "wrong-key")
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("the server refused the API key"), "\(wrong.stderr)")
        for output in [unknown, otherProject, foreignCheck, unknownCheck, readOnly, wrong] {
            #expect(!output.stdout.contains("delivered"))
        }
        #expect(await server.stop() == 0)
    }

    @Test("usage: PROJECT/CHANNEL and --check are checked before anything is sent (exit 64); an unreachable server is exit 1")
    func usage() async throws {
        for arguments in [["ops"], ["ops/"], ["/oncall"], ["ops/oncall/x"], ["ops/oncall", "--check", "a/b/c"], ["ops/oncall", "--check", "web/site"]] {
            let output = try await CLI.run(["notify"] + arguments + ["--server", "http://127.0.0.1:9", "--api-key", "k"])
            #expect(output.status == 64, "\(arguments): \(output.stderr)")
        }
        let wrongProject = try await CLI.run(["notify", "ops/oncall", "--check", "web/site", "--api-key", "k"])
        #expect(wrongProject.stderr.contains("a test through 'ops/oncall' can only be about a check of project 'ops'"), "\(wrongProject.stderr)")
        #expect(try await CLI.run(["notify", "ops/oncall"], environment: ["KIOTHC_API_KEY": ""]).status == 64)
        let unreachable = try await CLI.run(["notify", "ops/oncall", "--server", "http://127.0.0.1:9", "--api-key", "k"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("cannot reach the server at http://127.0.0.1:9"), "\(unreachable.stderr)")
        let help = try await CLI.run(["notify", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("kiothc notify ops/oncall --check db-backup"))
    }
}
