import Foundation
import Testing

/// The GitOps loop (SPEC §16): a pull request planned against the server running its base
/// (`plan --server`), against its base checked out beside it (`plan --against`), and against the
/// server's data directory (`plan --data`): the same changes every way.
@Suite("kiothc plan --server and --against", .serialized, .stopsServers)
struct GitOpsPlanTests {
    static let pinnedUUID = "5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b"

    static let projects = """
        projects:
          ops:
            ping_key: ops-ping-key-0001
            api_keys: {read_only: ops-read-only-key-0001, read_write: ops-read-write-key-0001}
          web:
            ping_key: web-ping-key-0001
        """

    static let web = "project: web\nchecks:\n  site: {name: Site}\n"

    static let base = """
        project: ops
        checks:
          backup:
            name: Database Backup
            timeout: 1h
          report:
            name: Weekly Report
            schedule: "0 8 * * 1"
            tz: Europe/Riga
          cleanup:
            name: Cleanup
          pinned:
            name: Pinned Job
            uuid: \(pinnedUUID)

        """

    /// The pull request: a rename (backup), a deletion (cleanup), a new check (fresh) and a
    /// changed schedule (report).
    static let head = """
        project: ops
        checks:
          backup:
            name: Nightly Backup
            timeout: 1h
          report:
            name: Weekly Report
            schedule: "0 9 * * 1"
            tz: Europe/Riga
          pinned:
            name: Pinned Job
            uuid: \(pinnedUUID)
          fresh:
            name: Fresh Job

        """

    static var baseFiles: [String: String] { ["projects.yaml": projects, "web.yaml": web, "checks.yaml": base] }

    /// A git repository with the base commit and the pull request's head commit on top, and the
    /// base checked out beside it (a worktree), made by the real `git`.
    final class Repository {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-gitops-\(UUID().uuidString)")
        var work: URL { root.appendingPathComponent("repo") }
        var head: URL { work.appendingPathComponent("checks.d") }
        var baseTree: URL { root.appendingPathComponent("base") }
        var base: URL { baseTree.appendingPathComponent("checks.d") }
        private(set) var baseCommit = ""
        private(set) var headCommit = ""

        init() async throws {
            try FileManager.default.createDirectory(at: head, withIntermediateDirectories: true)
            try await git(["init", "-q", "-b", "main", "."])
            for (name, text) in GitOpsPlanTests.baseFiles { try write(name, text) }
            baseCommit = try await commit("base")
            try write("checks.yaml", GitOpsPlanTests.head)
            headCommit = try await commit("head: rename backup, delete cleanup, add fresh, move report")
            try await git(["worktree", "add", "-q", "--detach", baseTree.path, baseCommit])
        }

        func write(_ name: String, _ text: String, in directory: URL? = nil) throws {
            try Data(text.utf8).write(to: (directory ?? head).appendingPathComponent(name))
        }

        @discardableResult
        func git(_ arguments: [String], in directory: URL? = nil) async throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
            process.arguments = arguments
            process.currentDirectoryURL = directory ?? work
            // No user or system configuration: the same repository on every machine.
            process.environment = [
                "PATH": "/usr/bin:/bin", "HOME": root.path, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": root.appendingPathComponent("gitconfig").path,
                "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test",
                "GIT_COMMITTER_EMAIL": "test@example.com",
            ]
            let output = await (try Child(process)).output()
            try #require(output.status == 0, "git \(arguments.joined(separator: " ")): \(output.stderr)")
            return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func commit(_ message: String) async throws -> String {
            try await git(["add", "-A"])
            try await git(["commit", "-q", "-m", message])
            return try await git(["rev-parse", "HEAD"])
        }

        deinit { try? FileManager.default.removeItem(at: root) }
    }

    /// `kiothc plan --config <head> …` with `--format json`, parsed.
    static func plan(_ repository: Repository, _ arguments: [String], environment: [String: String] = [:]) async throws -> (CLI.Output, [String: Any]) {
        let output = try await CLI.run(["plan", "--config", repository.head.path, "--format", "json"] + arguments, environment: environment)
        #expect(output.status == 2, "\(arguments): \(output.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any], "\(output.stdout)")
        return (output, document)
    }

    /// The changes of a JSON plan, without the UUIDs (which a read-only key and a configuration
    /// tree do not know): what each source must agree on.
    static func changes(_ document: [String: Any]) -> [String] {
        func items(_ key: String) -> [[String: Any]] { document[key] as? [[String: Any]] ?? [] }
        func text(_ value: Any?) -> String { (value as? String) ?? "-" }
        var lines: [String] = []
        for item in items("created") { lines.append("created \(text(item["project"]))/\(text(item["key"])) \(text(item["name"])) \(text(item["slug_url"]))") }
        for item in items("deleted") {
            // The slug URL (the last broken URL); the first is the UUID URL.
            lines.append("deleted \(text(item["project"]))/\(text(item["key"])) \(text((item["broken_urls"] as? [String])?.last))")
        }
        for item in items("renamed") {
            lines.append("renamed \(text(item["project"]))/\(text(item["key"])) \(text(item["old_name"])) -> \(text(item["new_name"])) \(text(item["old_slug_url"])) -> \(text(item["new_slug_url"]))")
        }
        for item in items("changed") {
            lines.append("changed \(text(item["project"]))/\(text(item["key"])) \(text(item["field"])): \(text(item["old"])) -> \(text(item["new"]))")
        }
        for item in items("new_conflicts") { lines.append("conflict \(text(item["project"])) \(text(item["slug"]))") }
        for item in items("new_uuids") { lines.append("new uuid \(text(item["project"]))/\(text(item["key"]))") }
        return lines
    }

    static let expectedChanges = [
        "created ops/fresh Fresh Job /ping/<ops-ping-key>/fresh-job",
        "deleted ops/cleanup /ping/<ops-ping-key>/cleanup",
        "renamed ops/backup Database Backup -> Nightly Backup /ping/<ops-ping-key>/database-backup -> /ping/<ops-ping-key>/nightly-backup",
        "changed ops/report schedule: 0 8 * * 1 -> 0 9 * * 1",
    ]

    @Test("plan --against the base, --server on a server running the base (read-only and read-write keys) and --data report the same changes")
    func sameChangesEveryWay() async throws {
        let repository = try await Repository()
        let server = try await RunningServer(files: Self.baseFiles)
        let cleanup = try server.uuid("ops", "cleanup")

        let (_, data) = try await Self.plan(repository, ["--data", server.data.path])
        #expect(Self.changes(data) == Self.expectedChanges)
        #expect((data["deleted"] as? [[String: Any]])?.first?["uuid"] as? String == cleanup)

        let (readWriteOutput, readWrite) = try await Self.plan(repository, ["--server", server.baseURL, "--api-key", "ops-read-write-key-0001"])
        #expect(Self.changes(readWrite) == Self.expectedChanges)
        // A read-write key: the very plan of the data directory, UUIDs and all, and what serves.
        var withoutLive = readWrite
        let live = try #require(withoutLive.removeValue(forKey: "live") as? [String: Any])
        func canonical(_ object: [String: Any]) throws -> Data { try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) }
        #expect(try canonical(withoutLive) == canonical(data))
        #expect(data["live"] == nil)
        #expect(live["commit"] is NSNull && live["hash"] as? String != nil && live["applied_at"] as? String != nil)
        #expect(readWriteOutput.stdout.hasPrefix("{"))
        // Only project ops is planned (the key's); web is named as not compared.
        #expect(readWriteOutput.stderr.contains("planned for project ops only (the projects the API key may see); not compared: web"))

        // A read-only key, from the environment: the same changes, and no UUID the server generated.
        let (readOnlyOutput, readOnly) = try await Self.plan(
            repository, ["--server", server.baseURL], environment: ["KIOTHC_API_KEY": "ops-read-only-key-0001"])
        #expect(Self.changes(readOnly) == Self.expectedChanges)
        let deleted = try #require((readOnly["deleted"] as? [[String: Any]])?.first)
        #expect(deleted["uuid"] as? String == "<ops/cleanup-uuid>")
        #expect(deleted["broken_urls"] as? [String] == ["/ping/<ops/cleanup-uuid>", "/ping/<ops-ping-key>/cleanup"])
        for key in ["backup", "report", "cleanup"] {
            let uuid = try server.uuid("ops", key)
            #expect(!readOnlyOutput.stdout.contains(uuid) && !readOnlyOutput.stderr.contains(uuid), "\(key)'s UUID shown to a read-only key")
        }
        #expect(!readOnlyOutput.stderr.contains("ops-read-only-key-0001") && !readWriteOutput.stderr.contains("ops-read-write-key-0001"))

        // The base checked out beside the head: offline, the same changes.
        let (_, against) = try await Self.plan(repository, ["--against", repository.base.path])
        #expect(Self.changes(against) == Self.expectedChanges)
        #expect((against["deleted"] as? [[String: Any]])?.first?["uuid"] as? String == "<ops/cleanup-uuid>")
        // The renamed check keeps its (generated) UUID: shown as its placeholder, not as created.
        #expect((against["renamed"] as? [[String: Any]])?.first?["uuid"] as? String == "<ops/backup-uuid>")
        // The pinned check stays put every way: no new UUID.
        for document in [data, readWrite, readOnly, against] { #expect((document["new_uuids"] as? [Any])?.isEmpty == true) }
    }

    @Test("a pull request that changes a pinned UUID plans it as a new UUID every way; the old one is shown except to a read-only key")
    func repinned() async throws {
        let repository = try await Repository()
        let server = try await RunningServer(files: Self.baseFiles)
        let other = "0b0e4a5e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
        try repository.write("checks.yaml", Self.head.replacingOccurrences(of: Self.pinnedUUID, with: other))
        for arguments in [["--data", server.data.path], ["--server", server.baseURL, "--api-key", "ops-read-only-key-0001"], ["--against", repository.base.path]] {
            let (_, document) = try await Self.plan(repository, arguments)
            let repinned = try #require((document["new_uuids"] as? [[String: Any]])?.first, "\(arguments)")
            #expect(repinned["key"] as? String == "pinned")
            // The old UUID was pinned too, but a read-only key is not told it (it can ping).
            let readOnly = arguments.contains("--server")
            #expect(repinned["old_uuid"] as? String == (readOnly ? "<ops/pinned-uuid>" : Self.pinnedUUID), "\(arguments)")
            #expect(repinned["new_uuid"] as? String == other)
        }
    }

    @Test("an unchanged pull request plans nothing against the server and against its base, and says against what")
    func unchanged() async throws {
        let repository = try await Repository()
        let server = try await RunningServer(files: Self.baseFiles)
        let against = try await CLI.run(["plan", "--config", repository.base.path, "--against", repository.base.path])
        #expect(against.status == 0, "\(against.stderr)")
        #expect(against.stdout == "No changes: the configuration matches the configuration in '\(repository.base.path)'.\n")
        let live = try await CLI.run(["plan", "--config", repository.base.path, "--server", server.baseURL, "--api-key", "ops-read-only-key-0001"])
        #expect(live.status == 0, "\(live.stderr)")
        #expect(live.stdout.hasSuffix("No changes: the configuration matches what the server applied.\n"))
        // Not a git checkout: the server names its configuration by hash.
        #expect(live.stdout.hasPrefix("live: config "), "\(live.stdout)")
        #expect(live.stdout.contains(" (not a git checkout), applied "))
    }

    @Test("a wrong key, an unreachable server, a server that is not kiothc and an untrusted certificate are errors that say so (exit 1), never showing the key")
    func serverFailures() async throws {
        let repository = try await Repository()
        let server = try await RunningServer(files: Self.baseFiles)
        func plan(_ server: String, key: String = "ops-read-only-key-0001") async throws -> CLI.Output {
            try await CLI.run(["plan", "--config", repository.head.path, "--server", server, "--api-key", key])
        }
        let wrong = try await plan(server.baseURL, key: "not-the-key-1234")
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("the server at \(server.baseURL) refused the API key (401: wrong api key)"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("not-the-key-1234") && wrong.stdout.isEmpty)

        // Nothing listens on port 1 of the loopback address.
        let unreachable = try await plan("http://127.0.0.1:1")
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("cannot ask the server at http://127.0.0.1:1 what it applied: could not connect to 127.0.0.1 port 1"), "\(unreachable.stderr)")

        let notKiothc = try FakeHealthchecks { _, _ in .init(status: 200, body: "<html>It works!</html>", contentType: "text/html") }
        defer { notKiothc.stop() }
        let html = try await plan(notKiothc.baseURL)
        #expect(html.status == 1)
        #expect(html.stderr.contains("is not a kiothc server's applied catalog (it begins '<html>It works!</html>')"), "\(html.stderr)")
        #expect(notKiothc.requests.first?.path == "/api/v3/catalog/")

        let missing = try FakeHealthchecks { _, _ in .init(status: 404, body: "{\"detail\": \"not found\"}") }
        defer { missing.stop() }
        let old = try await plan(missing.baseURL + "/")
        #expect(old.status == 1)
        #expect(old.stderr.contains("has no /api/v3/catalog/ (404)"), "\(old.stderr)")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-gitops-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = try await SelfSignedCertificate.make(in: directory)
        let tls = try await RunningServer(files: Self.baseFiles, arguments: ["--tls-cert", certificate.cert, "--tls-key", certificate.key])
        #expect(tls.baseURL.hasPrefix("https://"))
        let untrusted = try await plan(tls.baseURL)
        #expect(untrusted.status == 1)
        #expect(untrusted.stderr.contains("the TLS handshake with 127.0.0.1 port \(tls.port) failed"), "\(untrusted.stderr)")
    }

    @Test("--against a configuration with invalid YAML shows its diagnostics with file:line:col and exits 1; flags that contradict exit 64")
    func againstFailures() async throws {
        let repository = try await Repository()
        try repository.write("checks.yaml", "project: ops\nchecks:\n  backup: {name: Backup, scheduel: daily}\n", in: repository.base)
        let invalid = try await CLI.run(["plan", "--config", repository.head.path, "--against", repository.base.path])
        #expect(invalid.status == 1)
        #expect(invalid.stdout.isEmpty)
        #expect(invalid.stderr.contains("\(repository.base.path)/checks.yaml:3:26: error: unknown key 'scheduel'"), "\(invalid.stderr)")
        #expect(invalid.stderr.contains("--against: the configuration in '\(repository.base.path)' is invalid"))
        try repository.write("checks.yaml", "checks: [unclosed\n", in: repository.base)
        let syntax = try await CLI.run(["plan", "--config", repository.head.path, "--against", repository.base.path])
        #expect(syntax.status == 1)
        #expect(syntax.stderr.contains("\(repository.base.path)/checks.yaml:") && syntax.stderr.contains("[yaml-syntax]"), "\(syntax.stderr)")
        let missing = try await CLI.run(["plan", "--config", repository.head.path, "--against", repository.root.appendingPathComponent("nowhere").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nowhere"))

        let head = repository.head.path
        for arguments in [
            ["--server", "http://127.0.0.1:1", "--against", head], ["--server", "http://127.0.0.1:1", "--api-key", "k", "--data", head],
            ["--server", "ftp://example.com", "--api-key", "k"], ["--api-key", "k"], ["--server", "http://127.0.0.1:1"],
        ] {
            let output = try await CLI.run(["plan", "--config", head] + arguments, environment: ["KIOTHC_API_KEY": ""])
            #expect(output.status == 64, "\(arguments): \(output.stderr)")
        }
    }

    // MARK: --format markdown and github

    /// The cells of a Markdown table row (`| a | b |`), split on unescaped `|`, trimmed, with
    /// inline code's backticks and escapes taken off.
    static func cells(_ line: String) -> [String] {
        var cells: [String] = []
        var current = ""
        var escaped = false
        for character in line.dropFirst() {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "|" {
                cells.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(character)
            }
        }
        return cells.map { cell in
            var text = cell
            while text.hasPrefix("`") && text.hasSuffix("`") && text.count >= 2 { text = String(text.dropFirst().dropLast()) }
            return text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        }
    }

    /// The Markdown tables of `text`, each as its rows of cells (header and delimiter row left out).
    static func tables(_ text: String) -> [[String]: [[String]]] {
        var tables: [[String]: [[String]]] = [:]
        var header: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            guard line.hasPrefix("|") else { header = nil; continue }
            let row = cells(line)
            if header == nil {
                header = row
                tables[row] = []
            } else if let header, !row.allSatisfy({ $0.allSatisfy { "-:".contains($0) } }) {
                tables[header, default: []].append(row)
            }
        }
        return tables
    }

    /// A workflow command: `::command key=value,…::message`, unescaped.
    struct Annotation {
        var command: String
        var properties: [String: String]
        var message: String

        init?(_ line: String) {
            guard line.hasPrefix("::"), let end = line.range(of: "::", range: line.index(line.startIndex, offsetBy: 2)..<line.endIndex) else { return nil }
            let head = line[line.index(line.startIndex, offsetBy: 2)..<end.lowerBound]
            let parts = head.split(separator: " ", maxSplits: 1)
            command = String(parts[0])
            func unescape(_ text: Substring) -> String {
                text.replacingOccurrences(of: "%2C", with: ",").replacingOccurrences(of: "%3A", with: ":").replacingOccurrences(of: "%0A", with: "\n")
                    .replacingOccurrences(of: "%0D", with: "\r").replacingOccurrences(of: "%25", with: "%")
            }
            var properties: [String: String] = [:]
            for pair in (parts.count > 1 ? parts[1] : "").split(separator: ",") {
                guard let equals = pair.firstIndex(of: "=") else { return nil }
                properties[String(pair[..<equals])] = unescape(pair[pair.index(after: equals)...])
            }
            self.properties = properties
            message = unescape(line[end.upperBound...])
        }
    }

    static func annotations(_ text: String) -> [Annotation] {
        text.split(separator: "\n").compactMap { Annotation(String($0)) }
    }

    /// The 1-based line of `text` in `file` that starts (after indentation) with `prefix`.
    static func line(of prefix: String, in file: URL) throws -> Int {
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        return try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }) + 1
    }

    @Test("--format markdown: a summary table whose counts are the plan's, and a table of every ping URL that breaks")
    func markdown() async throws {
        let repository = try await Repository()
        let server = try await RunningServer(files: Self.baseFiles)
        for arguments in [["--against", repository.base.path], ["--server", server.baseURL, "--api-key", "ops-read-only-key-0001"], ["--data", server.data.path]] {
            let output = try await CLI.run(["plan", "--config", repository.head.path, "--format", "markdown"] + arguments)
            #expect(output.status == 2, "\(arguments): \(output.stderr)")
            let tables = Self.tables(output.stdout)
            let summary = try #require(tables[["change", "checks"]], "\(output.stdout)")
            #expect(Dictionary(uniqueKeysWithValues: summary.map { ($0[0], $0[1]) }) == [
                "to create": "1", "to delete": "1", "to rename": "1", "with changed settings": "1", "new slug conflicts": "0", "with a new UUID": "0",
            ])
            let broken = try #require(tables[["check", "URL", "why"]], "\(output.stdout)")
            let uuid = arguments[0] == "--data" ? try server.uuid("ops", "cleanup") : "<ops/cleanup-uuid>"
            #expect(broken.map { [$0[0], $0[1]] } == [
                ["ops/cleanup", "/ping/\(uuid)"], ["ops/cleanup", "/ping/<ops-ping-key>/cleanup"], ["ops/backup", "/ping/<ops-ping-key>/database-backup"],
            ])
            #expect(broken.last?[2] == "renamed \"Database Backup\" → \"Nightly Backup\"; now `/ping/<ops-ping-key>/nightly-backup`", "\(broken)")
            // The whole text plan is there too, folded.
            #expect(output.stdout.contains("<details><summary>The whole plan</summary>"))
            #expect(output.stdout.contains("~ ops/report  schedule: \"0 8 * * 1\" -> \"0 9 * * 1\""))
        }
        let unchanged = try await CLI.run(["plan", "--config", repository.base.path, "--against", repository.base.path, "--format", "markdown"])
        #expect(unchanged.status == 0)
        #expect(unchanged.stdout.contains("**No changes**"))
        #expect(Self.tables(unchanged.stdout).isEmpty)
    }

    @Test("--format github: an annotation on the line of each change that breaks a URL — the renamed name:, the deleted check's line in the base, a changed key")
    func github() async throws {
        let repository = try await Repository()
        // The key of report changes too (same name, so same slug): a new check for the server.
        let head = Self.head.replacingOccurrences(of: "  report:", with: "  weekly-report:")
        try repository.write("checks.yaml", head)
        let headFile = repository.head.appendingPathComponent("checks.yaml")
        let baseFile = repository.base.appendingPathComponent("checks.yaml")
        let output = try await CLI.run(["plan", "--config", repository.head.path, "--against", repository.base.path, "--format", "github"])
        #expect(output.status == 2, "\(output.stderr)")
        let annotations = Self.annotations(output.stdout)
        #expect(annotations.count == output.stdout.split(separator: "\n").count, "every line is a workflow command: \(output.stdout)")

        let renamed = try #require(annotations.first { $0.properties["title"] == "slug URL of ops/backup changes" }, "\(output.stdout)")
        #expect(renamed.command == "warning")
        #expect(renamed.properties["file"] == headFile.path)
        #expect(renamed.properties["line"] == String(try Self.line(of: "name: Nightly Backup", in: headFile)))
        #expect(renamed.properties["col"] == "5")
        #expect(renamed.message.contains("/ping/<ops-ping-key>/database-backup will answer 404"))

        let deleted = try #require(annotations.first { $0.properties["title"] == "check ops/cleanup deleted" }, "\(output.stdout)")
        #expect(deleted.command == "error")
        // The line the base declared it on, in the head's file of the same name, and the message says so.
        #expect(deleted.properties["file"] == headFile.path)
        #expect(deleted.properties["line"] == String(try Self.line(of: "cleanup:", in: baseFile)))
        #expect(deleted.properties["col"] == "3")
        #expect(deleted.message.contains("where the base declared it: the check is gone from this file"))
        #expect(deleted.message.contains("/ping/<ops/cleanup-uuid> and /ping/<ops-ping-key>/cleanup will answer 404"))

        let moved = try #require(annotations.first { $0.properties["title"] == "check ops/report becomes ops/weekly-report" }, "\(output.stdout)")
        #expect(moved.command == "error")
        #expect(moved.properties["file"] == headFile.path)
        #expect(moved.properties["line"] == String(try Self.line(of: "weekly-report:", in: headFile)))
        #expect(moved.message.contains("its key changed") && moved.message.contains("/ping/<ops/report-uuid> will answer 404"))

        // Nothing else breaks a URL: the new check and the schedule change are not annotated.
        #expect(annotations.filter { $0.command != "notice" }.count == 3)
        #expect(annotations.last?.command == "notice")

        // Against a server, a deleted check has no line to point at: the annotation has no file.
        let server = try await RunningServer(files: Self.baseFiles)
        let live = try await CLI.run(["plan", "--config", repository.head.path, "--server", server.baseURL, "--api-key", "ops-read-only-key-0001", "--format", "github"])
        #expect(live.status == 2)
        let gone = try #require(Self.annotations(live.stdout).first { $0.properties["title"] == "check ops/cleanup deleted" }, "\(live.stdout)")
        #expect(gone.properties["file"] == nil && gone.properties["line"] == nil)

        // An invalid configuration: its diagnostics as annotations, exit 1.
        try repository.write("checks.yaml", "checks:\n  backup: {name: Backup, scheduel: daily}\n")
        let invalid = try await CLI.run(["plan", "--config", repository.head.path, "--against", repository.base.path, "--format", "github"])
        #expect(invalid.status == 1)
        let error = try #require(Self.annotations(invalid.stdout).first, "\(invalid.stdout)")
        #expect(error.command == "error" && error.properties["file"] == headFile.path && error.properties["line"] == "2")
    }

    // MARK: Which commit is live

    @Test("a server on a git checkout records its commit: start and reload log lines, /metrics, the API, the dashboard footer and plan --server follow a new commit")
    func liveCommit() async throws {
        let repository = try await Repository()
        // The server loads the base worktree (its .git is a file: gitdir, commondir).
        // Reloads only when asked (no inotify, no poll): the test says when the commit changes.
        let server = try await RunningServer(
            files: [:], arguments: ["--config", repository.base.path, "--no-watch-config", "--reload-poll", "0"])
        let base = String(repository.baseCommit.prefix(7))
        #expect(server.output.contains("checks from \(repository.base.path) (git commit \(base)); data in"), "\(server.output)")

        func infoLabels() async throws -> [String: String] {
            let metrics = try await Curl.request(server.baseURL + "/metrics", extra: ["-H", "Authorization: Bearer \(try server.adminToken())"])
            let line = try #require(metrics.body.split(separator: "\n").first { $0.hasPrefix("kiothc_config_info{") }, "\(metrics.body)")
            #expect(line.hasSuffix("} 1"))
            #expect(metrics.body.contains("\nkiothc_config_hash{hash=\""), "the hash metric keeps its one label")
            var labels: [String: String] = [:]
            let inside = line.drop { $0 != "{" }.dropFirst().prefix { $0 != "}" }
            for pair in inside.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                labels[String(parts[0])] = String(parts[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            return labels
        }
        #expect(try await infoLabels()["commit"] == repository.baseCommit)

        // The base worktree moves to the pull request's head commit (detached HEAD), then reloads.
        try await repository.git(["checkout", "-q", "--detach", repository.headCommit], in: repository.baseTree)
        let reload = try await Curl.request(
            server.baseURL + "/-/reload", method: "POST", extra: ["-H", "Authorization: Bearer \(try server.adminToken())"])
        #expect(reload.status == 200, "\(reload.body)")
        let head = String(repository.headCommit.prefix(7))
        _ = try await server.waitFor(prefix: "git commit \(head)")
        #expect(server.output.contains("configuration reloaded: 5 checks; 1 added, 1 removed, 1 renamed, 1 settings changed; git commit \(head)"), "\(server.output)")
        let labels = try await infoLabels()
        #expect(labels["commit"] == repository.headCommit)
        #expect(labels["hash"]?.count == 16)

        let catalog = try await Curl.request(server.baseURL + "/api/v3/catalog/", extra: ["-H", "X-Api-Key: ops-read-only-key-0001"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(catalog.body.utf8)) as? [String: Any])
        let config = try #require(document["config"] as? [String: Any])
        #expect(config["commit"] as? String == repository.headCommit)
        #expect(config["branch"] is NSNull, "detached")
        #expect(config["hash"] as? String == labels["hash"])

        let plan = try await CLI.run(["plan", "--config", repository.head.path, "--server", server.baseURL, "--api-key", "ops-read-only-key-0001"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let first = try #require(plan.stdout.split(separator: "\n").first)
        #expect(first.hasPrefix("live: \(head), applied ") && first.hasSuffix(" ago"), "\(plan.stdout)")
        let markdown = try await CLI.run(
            ["plan", "--config", repository.head.path, "--server", server.baseURL, "--api-key", "ops-read-only-key-0001", "--format", "markdown"])
        #expect(markdown.stdout.contains("\nlive: \(head), applied "), "\(markdown.stdout)")

        // The dashboard's footer, for a logged-in visitor only.
        let login = try await Curl.request(server.baseURL + "/login?token=\(try server.adminToken())")
        let cookie = try #require(login.headers["set-cookie"]?.split(separator: ";").first.map(String.init), "\(login.headers)")
        let page = try await Curl.request(server.baseURL + "/", extra: ["-H", "Cookie: \(cookie)"])
        #expect(page.status == 200)
        #expect(page.body.contains("<footer class=\"config\"><small>Serving git commit \(head), applied "), "\(page.body.suffix(400))")
        let anonymous = try await Curl.request(server.baseURL + "/login")
        #expect(!anonymous.body.contains(head))
    }
}
