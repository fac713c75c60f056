import ArgumentParser
import Foundation
import PingClient

/// `kiothc pause` and `kiothc resume`: through the running server's API, as any Healthchecks
/// client would (POST /api/v3/checks/<uuid>/pause with the project's read-write key).
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a check through the server's API (it records pings but never alerts).",
        discussion: PauseRequest.discussion("pause"))

    @OptionGroup var options: PauseRequest

    func run() async throws { try await options.send("pause") }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a paused check through the server's API (it becomes new until its next ping).",
        discussion: PauseRequest.discussion("resume"))

    @OptionGroup var options: PauseRequest

    func run() async throws { try await options.send("resume") }
}

struct PauseRequest: ParsableArguments {
    @Argument(help: ArgumentHelp("The check: its UUID, or project/key.", valueName: "check"))
    var check: String

    @Option(name: .long, help: Settings.server.help("The server's URL.", valueName: "url"))
    var server: String?

    @Option(name: .customLong("api-key"), help: Settings.apiKey.help("The project's read_write API key.", valueName: "key"))
    var apiKey: String?

    static func discussion(_ action: String) -> String {
        """
        The check is its UUID or project/key. The API key is the read_write key of the check's \
        project (api_keys in the configuration), from --api-key or KIOTHC_API_KEY.

        Exit status: 0 done; 1 refused or the server cannot be reached; 64 usage.

        Example:
          KIOTHC_API_KEY=... kiothc \(action) ops/db-backup --server https://hc.example.com
        """
    }

    func validate() throws {
        _ = try settings()
        if UUID(uuidString: check) == nil && check.split(separator: "/").count != 2 {
            throw ValidationError("'\(check)' is neither a UUID nor project/key (e.g. ops/db-backup)")
        }
    }

    private func settings() throws -> (server: String, key: String) { try Self.settings(server: server, apiKey: apiKey) }

    /// The server and the API key, from the flags or else the variables (`pause`, `resume`,
    /// `notify`).
    static func settings(server: String?, apiKey: String?) throws -> (server: String, key: String) {
        let environment = Environment()
        let server = try environment.value(server, Settings.server)
        guard let key = try environment.optional(apiKey, Settings.apiKey), !key.isEmpty else {
            throw ValidationError("give the project's read_write API key with --api-key or KIOTHC_API_KEY")
        }
        return (server, key)
    }

    func send(_ action: String) async throws {
        let (server, key) = try settings()
        var base = server
        while base.hasSuffix("/") { base.removeLast() }
        let failure: String? = try await CommandHTTPClient.with(timeout: .seconds(10), server: base) { client in
            do {
                let uuid: String
                if let parsed = UUID(uuidString: check) {
                    uuid = parsed.uuidString.lowercased()
                } else {
                    uuid = try await lookUp(client, base: base, key: key)
                }
                let (status, body) = try await Self.request(client, "POST", "\(base)/api/v3/checks/\(uuid)/\(action)", key: key)
                guard status == 200 else { throw Refusal(message: Self.explain(status, body)) }
                let document = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
                let shown = document?["status"] as? String ?? "?"
                Terminal.write("\(check): \(action == "pause" ? "paused" : "resumed") (status \(shown))\n")
                return nil
            } catch let refusal as Refusal {
                return refusal.message
            } catch let failure as CommandHTTPClient.Failure {
                return "cannot reach the server at \(base): \(failure.reason)"
            } catch {
                return "cannot reach the server at \(base): \(error)"
            }
        }
        if let failure {
            Terminal.error(failure)
            throw ExitCode.failure
        }
    }

    struct Refusal: Error { let message: String }

    /// project/key → UUID, from the checks the key may see (the API lists `project` and `key`).
    private func lookUp(_ client: CommandHTTPClient, base: String, key: String) async throws -> String {
        let (status, body) = try await Self.request(client, "GET", "\(base)/api/v3/checks/", key: key)
        guard status == 200 else { throw Refusal(message: Self.explain(status, body)) }
        let parts = check.split(separator: "/").map(String.init)
        guard let document = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let checks = document["checks"] as? [[String: Any]] else {
            throw Refusal(message: "the server's answer to GET /api/v3/checks/ is not the expected JSON")
        }
        guard let found = checks.first(where: { $0["project"] as? String == parts[0] && $0["key"] as? String == parts[1] }) else {
            throw Refusal(message: "no check '\(check)' among the checks this API key can see")
        }
        // As Healthchecks, a check document has no "uuid": it ends its ping_url (absent for
        // read-only keys).
        guard let pingURL = found["ping_url"] as? String, let last = pingURL.split(separator: "/").last, let uuid = UUID(uuidString: String(last)) else {
            throw Refusal(message: "the API key is a read_only key; pausing and resuming need the project's read_write key")
        }
        return uuid.uuidString.lowercased()
    }

    static func explain(_ status: Int, _ body: Data) -> String {
        let document = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
        let detail = document?["error"] as? String ?? String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        switch status {
        case 401: return "the server refused the API key (\(detail))"
        case 403: return "the API key belongs to another project than the check (\(detail))"
        case 404: return "the server knows no such check (\(detail))"
        case 409: return detail
        default: return "the server answered \(status): \(detail)"
        }
    }

    static func request(_ client: CommandHTTPClient, _ method: String, _ url: String, key: String) async throws -> (Int, Data) {
        guard URL(string: url) != nil else { throw Refusal(message: "'\(url)' is not a URL") }
        let answer = try await client.send(method, url, headers: [("X-Api-Key", key), ("User-Agent", "kiothc")])
        return (answer.status, Data(answer.body))
    }
}
