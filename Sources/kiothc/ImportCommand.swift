import ArgumentParser
import Foundation
import PingClient
import Runtime

/// `kiothc import healthchecks`: a Healthchecks project, read through its API v3, as a config
/// file that keeps every UUID and slug (SPEC §13).
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import checks from another monitoring server as a config file.",
        subcommands: [HealthchecksImportCommand.self]
    )
}

struct HealthchecksImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthchecks",
        abstract: "Import a Healthchecks project (checks and channels, through its API v3) as one YAML file.",
        discussion: """
            Reads GET /api/v3/checks/ and GET /api/v3/channels/ of the Healthchecks site at \
            --url with the project's read-write API key (one key is one project; a read-only \
            key is refused, as Healthchecks does not show it the checks' UUIDs). Writes one \
            file that declares the project --project and its checks: each keeps its UUID \
            (uuid:) and slug (slug:), so existing ping URLs keep working, with its name, \
            description, tags, timeout or schedule and tz, grace, methods, manual_resume and \
            paused state. Check keys come from the slugs (a repeated one gets -2, -3, …).

            Healthchecks' API does not show channels' settings: each channel is listed as a \
            comment, with the checks that use it, to be declared by hand. The project's ping \
            key is not in the API either: without --ping-key, a comment says how to set it \
            (slug URLs need it).

            Without --out the file is printed; with --out DIR it is written to \
            DIR/<project>.yaml (DIR is created; an existing file is replaced). Importing the \
            same project again gives the same bytes.

            Exit status: 0 imported; 1 refused, unreachable or not Healthchecks; 64 usage.

            Example:
              kiothc import healthchecks --url https://healthchecks.io --api-key "$HC_API_KEY" \\
                  --project ops --out checks.d
            """
    )

    @Option(name: .long, help: ArgumentHelp("The Healthchecks site, e.g. https://healthchecks.io.", valueName: "url"))
    var url: String

    @Option(name: .customLong("api-key"), help: ArgumentHelp("The project's read-write API key (Healthchecks: Settings → API Access).", valueName: "key"))
    var apiKey: String

    @Option(name: .customLong("ping-key"), help: ArgumentHelp("The project's ping key, written into the file as its ping_key.", valueName: "key"))
    var pingKey: String?

    @Option(name: .long, help: ArgumentHelp("The project id to declare; also the file's name.", valueName: "id"))
    var project: String = "imported"

    @Option(name: .long, help: ArgumentHelp("Write <dir>/<project>.yaml instead of printing the file.", valueName: "dir"))
    var out: String?

    func validate() throws {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host?.isEmpty == false else {
            throw ValidationError("--url must be the http(s) address of the Healthchecks site, e.g. https://healthchecks.io")
        }
        if apiKey.isEmpty { throw ValidationError("--api-key is empty; give the project's read-write API key") }
        let identifier = project.utf8.count <= 64 && project.range(of: "^[a-z0-9][a-z0-9_-]*$", options: .regularExpression) != nil
        if !identifier {
            throw ValidationError("--project '\(project)' is not a project id: lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 64 characters")
        }
        if let pingKey {
            let valid = (8...128).contains(pingKey.utf8.count) && pingKey.range(of: "^[A-Za-z0-9_-]+$", options: .regularExpression) != nil
            if !valid { throw ValidationError("--ping-key is not a ping key: use 8 to 128 characters from A-Z, a-z, 0-9, '-' and '_'") }
        }
    }

    func run() async throws {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        let site = Self.shown(base)
        let fetched: Result<HealthchecksProject, Failure> = try await CommandHTTPClient.with(timeout: .seconds(30), server: base) { client in
            do {
                return .success(try await fetch(client, base: base, site: site))
            } catch let failure as Failure {
                return .failure(failure)
            } catch let problem as HealthchecksProject.Problem {
                return .failure(Failure(message: problem.message))
            } catch {
                return .failure(Failure(message: "cannot import from \(site): \(error)"))
            }
        }
        let imported: HealthchecksProject
        switch fetched {
        case .success(let project): imported = project
        case .failure(let failure):
            Terminal.error(failure.message)
            throw ExitCode.failure
        }
        let text = ImportedConfig.yaml(imported, projectID: project, source: site, pingKey: pingKey)
        let summary = "\(imported.checks.count) check\(imported.checks.count == 1 ? "" : "s") and \(imported.channels.count) channel\(imported.channels.count == 1 ? "" : "s") (as comments) from \(site)"
        if let out {
            let file = URL(fileURLWithPath: out).appendingPathComponent("\(project).yaml")
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                try Data(text.utf8).write(to: file, options: .atomic)
            } catch {
                Terminal.error("cannot write \(file.path): \(error.localizedDescription)")
                throw ExitCode.failure
            }
            Terminal.note("imported \(summary) into \(file.path)")
        } else {
            Terminal.write(text)
            Terminal.note("imported \(summary)")
        }
        if pingKey == nil, imported.checks.contains(where: { !$0.slug.isEmpty }) {
            Terminal.warning("no --ping-key: slug URLs (/ping/<ping key>/<slug>) answer only once the project's ping_key is set to Healthchecks' one (see the comment in the file)")
        }
    }

    private func fetch(_ client: CommandHTTPClient, base: String, site: String) async throws -> HealthchecksProject {
        let checks = try HealthchecksProject.checks(fromJSON: try await get(client, base: base, site: site, path: "/api/v3/checks/"))
        let channelsBody: Data
        do {
            channelsBody = try await get(client, base: base, site: site, path: "/api/v3/channels/")
        } catch let failure as Failure where failure.status == 401 {
            // Healthchecks lists checks to read-only keys but channels only to read-write ones.
            throw Failure(message: "\(site) lists the checks but refuses GET /api/v3/channels/ to this API key: it is read-only; give the project's read-write API key (Healthchecks: Settings → API Access)")
        }
        return HealthchecksProject(checks: checks, channels: try HealthchecksProject.channels(fromJSON: channelsBody))
    }

    struct Failure: Error {
        let message: String
        var status: Int? = nil
    }

    /// The body of a 200 answer to `GET base+path`; anything else is a `Failure` saying why.
    private func get(_ client: CommandHTTPClient, base: String, site: String, path: String) async throws -> Data {
        let answer: CommandHTTPClient.Answer
        do {
            answer = try await client.send("GET", base + path, headers: [("X-Api-Key", apiKey), ("Accept", "application/json"), ("User-Agent", "kiothc")])
        } catch {
            throw Failure(message: "cannot reach \(site): \(error.reason)")
        }
        let body = Data(answer.body)
        let document = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
        let detail = (document?["error"] as? String).map { " (\($0))" } ?? ""
        switch answer.status {
        case 200:
            return body
        case 401:
            throw Failure(message: "\(site) refused the API key\(detail) for GET \(path): give the project's read-write API key (Healthchecks: Settings → API Access)", status: 401)
        case 404:
            throw Failure(message: "\(site) has no GET \(path) (HTTP 404): --url must be the Healthchecks site's address, and the site must offer API v3 (Healthchecks 2.10 or later)", status: 404)
        default:
            throw Failure(message: "\(site) answered HTTP \(answer.status) to GET \(path)\(detail)", status: answer.status)
        }
    }

    /// The site's address as messages and the file show it: without user name, password,
    /// query or fragment.
    static func shown(_ base: String) -> String {
        guard var parts = URLComponents(string: base) else { return base }
        parts.user = nil
        parts.password = nil
        parts.query = nil
        parts.fragment = nil
        return parts.string ?? base
    }
}
