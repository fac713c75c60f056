import ArgumentParser
import CheckCatalog
import Foundation
import PingClient
import Runtime

/// `kiothc plan --server`: what a running server applied, from `GET /api/v3/catalog/`, as a
/// `PlanBaseline` (the same input a data directory gives). Errors say what to do; the API key
/// appears in none of them.
enum PlanServer {
    static let path = "/api/v3/catalog/"

    static func isWebURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else { return false }
        return (scheme == "http" || scheme == "https") && url.host != nil
    }

    static func baseline(server: String, key: String, catalog: Catalog) async throws -> PlanBaseline {
        var base = server
        while base.hasSuffix("/") { base.removeLast() }
        let url = base + path
        let answer: CommandHTTPClient.Answer
        do {
            answer = try await CommandHTTPClient.with(timeout: .seconds(30), server: base) { client in
                try await client.send("GET", url, headers: [("X-Api-Key", key), ("Accept", "application/json"), ("User-Agent", "kiothc")])
            }
        } catch let failure as CommandHTTPClient.Failure {
            Terminal.error("cannot ask the server at \(base) what it applied: \(failure.reason)")
            throw ExitCode.failure
        }
        let body = Data(answer.body)
        let detail = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["error"] as? String
        switch answer.status {
        case 200:
            break
        case 401, 403:
            Terminal.error(
                "the server at \(base) refused the API key (\(answer.status)\(detail.map { ": \($0)" } ?? "")): give a read_only or read_write key of the project to plan (api_keys in its configuration) with --api-key or KIOTHC_API_KEY")
            throw ExitCode.failure
        case 404:
            Terminal.error(
                "the server at \(base) has no \(path) (404): is the URL the kiothc server's (without a path), and is the server as new as this kiothc?")
            throw ExitCode.failure
        default:
            let text = detail ?? String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            Terminal.error("the server at \(base) answered \(path) with HTTP \(answer.status): \(text)")
            throw ExitCode.failure
        }
        do {
            return try PlanBaseline.server(answer: answer.body, catalog: catalog)
        } catch {
            Terminal.error("\(base)\(path): \(error)")
            throw ExitCode.failure
        }
    }
}
