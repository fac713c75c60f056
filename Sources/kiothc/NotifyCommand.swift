import ArgumentParser
import Foundation
import PingClient

/// `kiothc notify PROJECT/CHANNEL`: a test notification through a running server's API
/// (POST /api/v3/channels/<id>/test with the project's read-write key), and how it went.
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Send a test notification through a channel of a running server and print how it went.",
        discussion: """
            The channel is PROJECT/CHANNEL, as declared under projects: in the configuration. The \
            server sends a test notification through it at once, about the check given with \
            --check (its UUID, its key in the channel's project, or project/key) or else about no \
            check, tries it once and answers when that attempt ended; its outcome is printed, one \
            line per attempt. A test about a check is also listed with the check's notifications \
            (dashboard, API).

            The API key is the read_write key of the channel's project (api_keys in the \
            configuration), from --api-key or KIOTHC_API_KEY.

            Exit status: 0 delivered; 1 not delivered, refused, or the server cannot be reached; \
            64 usage.

            Example:
              export KIOTHC_API_KEY=...
              kiothc notify ops/oncall --check db-backup --server https://hc.example.com
            """)

    @Argument(help: ArgumentHelp("The channel: project/channel.", valueName: "project/channel"))
    var channel: String

    @Option(name: .long, help: ArgumentHelp("The check the test is about: its UUID, key or project/key (default: none).", valueName: "check"))
    var check: String?

    @Option(name: .long, help: Settings.server.help("The server's URL.", valueName: "url"))
    var server: String?

    @Option(name: .customLong("api-key"), help: Settings.apiKey.help("The project's read_write API key.", valueName: "key"))
    var apiKey: String?

    /// The server waits up to about 20 s for the attempt before it answers.
    static let timeout: Duration = .seconds(45)

    func validate() throws {
        _ = try PauseRequest.settings(server: server, apiKey: apiKey)
        _ = try target()
        if let check {
            let parts = check.split(separator: "/", omittingEmptySubsequences: false)
            if UUID(uuidString: check) == nil {
                guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty }) else {
                    throw ValidationError("--check '\(check)' is neither a UUID, a check's key nor project/key (e.g. ops/db-backup)")
                }
                if parts.count == 2, let project = try? target().project, parts[0] != project {
                    throw ValidationError("--check '\(check)' is a check of project '\(parts[0])'; a test through '\(channel)' can only be about a check of project '\(project)'")
                }
            }
        }
    }

    /// PROJECT/CHANNEL, split.
    private func target() throws -> (project: String, name: String) {
        let parts = channel.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ValidationError("'\(channel)' is not project/channel (e.g. ops/oncall)")
        }
        return (parts[0], parts[1])
    }

    func run() async throws {
        let (server, key) = try PauseRequest.settings(server: server, apiKey: apiKey)
        let target = try target()
        var base = server
        while base.hasSuffix("/") { base.removeLast() }
        let delivered: Bool = try await CommandHTTPClient.with(timeout: Self.timeout, server: base) { client in
            do {
                let id = try await channelID(client, base: base, key: key, target: target)
                var body: [UInt8]?
                if let check {
                    let uuid = try await checkUUID(check, client, base: base, key: key, project: target.project)
                    body = Array(#"{"check": "\#(uuid)"}"#.utf8)
                }
                let answer = try await client.send(
                    "POST", "\(base)/api/v3/channels/\(id)/test",
                    headers: [("X-Api-Key", key), ("User-Agent", "kiothc"), ("Content-Type", "application/json")], body: body)
                guard answer.status == 200 else { throw PauseRequest.Refusal(message: Self.explain(answer.status, Data(answer.body))) }
                guard let document = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any] else {
                    throw PauseRequest.Refusal(message: "the server's answer to the test is not the expected JSON")
                }
                return report(document)
            } catch let refusal as PauseRequest.Refusal {
                Terminal.error(refusal.message)
            } catch let failure as CommandHTTPClient.Failure {
                Terminal.error("cannot reach the server at \(base): \(failure.reason)")
            } catch {
                Terminal.error("cannot reach the server at \(base): \(error)")
            }
            return false
        }
        if !delivered { throw ExitCode.failure }
    }

    /// Prints the attempts and the outcome of the test's notification document; true when it
    /// was delivered.
    private func report(_ document: [String: Any]) -> Bool {
        let attempts = document["attempts"] as? [[String: Any]] ?? []
        for (index, attempt) in attempts.enumerated() {
            Terminal.write("\(channel): attempt \(attempt["n"] as? Int ?? index + 1) at \(attempt["time"] as? String ?? "?"): \(Self.describe(attempt))\n")
        }
        switch document["status"] as? String {
        case "delivered":
            Terminal.write("\(channel): test notification delivered\n")
            return true
        case "pending":
            let next = (document["next_attempt"] as? String).map { "; next attempt at \($0)" } ?? ""
            Terminal.error("\(channel): the test notification was not delivered yet: the server is still trying\(next)")
        default:
            let last = attempts.last?["error"] as? String
            Terminal.error("\(channel): the test notification was not delivered\(last.map { ": \($0)" } ?? "")")
        }
        return false
    }

    /// `delivered in 0.23 s with HTTP 200`, `failed in 1.02 s with HTTP 503: <error>`.
    static func describe(_ attempt: [String: Any]) -> String {
        let outcome = attempt["outcome"] as? String ?? "?"
        var text = "\(outcome) in \(String(format: "%.2f", (attempt["duration"] as? NSNumber)?.doubleValue ?? 0)) s"
        if let code = attempt["status_code"] as? Int {
            text += " with HTTP \(code)"
        } else if let status = attempt["exit_status"] as? Int {
            text += " with exit status \(status)"
        }
        if let error = attempt["error"] as? String { text += ": \(error)" }
        if attempt["permanent"] as? Bool == true { text += " (refused for good)" }
        return text
    }

    /// PROJECT/CHANNEL → the channel's API id, from the channels the key can see.
    private func channelID(_ client: CommandHTTPClient, base: String, key: String, target: (project: String, name: String)) async throws -> String {
        let (status, body) = try await PauseRequest.request(client, "GET", "\(base)/api/v3/channels/", key: key)
        guard status == 200 else { throw PauseRequest.Refusal(message: Self.explain(status, body)) }
        guard let document = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let channels = document["channels"] as? [[String: Any]] else {
            throw PauseRequest.Refusal(message: "the server's answer to GET /api/v3/channels/ is not the expected JSON")
        }
        if let found = channels.first(where: { $0["project"] as? String == target.project && $0["name"] as? String == target.name }),
            let id = found["id"] as? String
        {
            return id
        }
        let known = channels.compactMap { channel -> String? in
            guard let project = channel["project"] as? String, let name = channel["name"] as? String else { return nil }
            return "\(project)/\(name)"
        }
        throw PauseRequest.Refusal(
            message: "no channel '\(channel)' among the channels this API key can see\(known.isEmpty ? " (none)" : ": \(known.sorted().joined(separator: ", "))")")
    }

    /// --check → the check's UUID: as given, or looked up by key in the channel's project.
    private func checkUUID(_ check: String, _ client: CommandHTTPClient, base: String, key: String, project: String) async throws -> String {
        if let uuid = UUID(uuidString: check) { return uuid.uuidString.lowercased() }
        let wanted = check.split(separator: "/").last.map(String.init) ?? check
        let (status, body) = try await PauseRequest.request(client, "GET", "\(base)/api/v3/checks/", key: key)
        guard status == 200 else { throw PauseRequest.Refusal(message: Self.explain(status, body)) }
        guard let document = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let checks = document["checks"] as? [[String: Any]] else {
            throw PauseRequest.Refusal(message: "the server's answer to GET /api/v3/checks/ is not the expected JSON")
        }
        guard let found = checks.first(where: { $0["project"] as? String == project && $0["key"] as? String == wanted }) else {
            throw PauseRequest.Refusal(message: "no check '\(project)/\(wanted)' among the checks this API key can see")
        }
        // A check document has no "uuid" (as Healthchecks): it ends its ping_url.
        guard let pingURL = found["ping_url"] as? String, let last = pingURL.split(separator: "/").last, let uuid = UUID(uuidString: String(last)) else {
            throw PauseRequest.Refusal(message: "the server's document of check '\(project)/\(wanted)' has no ping_url to take its UUID from")
        }
        return uuid.uuidString.lowercased()
    }

    static func explain(_ status: Int, _ body: Data) -> String {
        guard status == 404 || status == 400 else { return PauseRequest.explain(status, body) }
        let document = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
        let detail = document?["error"] as? String ?? String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return status == 404 ? "the server knows no such channel (\(detail))" : "the server refused the test: \(detail)"
    }
}
