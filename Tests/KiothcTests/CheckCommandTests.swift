import Foundation
import Testing

@Suite("kiothc check")
struct CheckCommandTests {
    static let invalid = CLI.repository.appendingPathComponent("Tests/CheckCatalogTests/Fixtures/invalid")

    @Test("the example config passes: exit 0 and a summary line")
    func exampleConfig() async throws {
        let output = try await CLI.run(["check"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.hasPrefix("valid: "))
    }

    @Test("an invalid config exits 1 with file:line:col, severity, message and code")
    func invalidConfig() async throws {
        let directory = Self.invalid.appendingPathComponent("unknown-key").path
        let output = try await CLI.run(["check", "--config", directory])
        #expect(output.status == 1)
        let lines = output.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "\(directory)/checks.yaml:3:5: error: unknown key 'scheduel' in check 'nightly' [unknown-key]")
        #expect(lines.contains("    note: did you mean 'schedule'?"))
        #expect(lines.last == "invalid: 1 check in 1 project from 1 file; 1 error, 0 warnings")
    }

    @Test("warnings pass, and fail with --strict")
    func strict() async throws {
        let directory = Self.invalid.appendingPathComponent("slug-conflict").path
        #expect(try await CLI.run(["check", "--config", directory]).status == 0)
        let strict = try await CLI.run(["check", "--config", directory, "--strict"])
        #expect(strict.status == 1)
        #expect(strict.stdout.contains("--strict"))
    }

    @Test("--format json has the documented shape")
    func json() async throws {
        let directory = Self.invalid.appendingPathComponent("duplicate-check").path
        let output = try await CLI.run(["check", "--config", directory, "--format", "json"])
        #expect(output.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["valid", "errors", "warnings", "projects", "checks", "diagnostics"])
        #expect(object["valid"] as? Bool == false)
        #expect(object["errors"] as? Int == 1)
        #expect(object["warnings"] as? Int == 0)
        #expect(object["projects"] as? Int == 1)
        #expect(object["checks"] as? Int == 1)
        let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.count == 1)
        let diagnostic = diagnostics[0]
        #expect(Set(diagnostic.keys) == ["severity", "code", "message", "file", "line", "column", "notes"])
        #expect(diagnostic["severity"] as? String == "error")
        #expect(diagnostic["code"] as? String == "duplicate-check")
        #expect(diagnostic["file"] as? String == "\(directory)/b.yaml")
        #expect(diagnostic["line"] as? Int == 3)
        #expect(diagnostic["column"] as? Int == 3)
        let notes = try #require(diagnostic["notes"] as? [[String: Any]])
        #expect(notes.count == 1)
        #expect(notes[0]["file"] as? String == "\(directory)/a.yaml")
        #expect(notes[0]["line"] as? Int == 2)
        #expect(notes[0]["message"] as? String == "first declared here")
    }

    @Test("--format github prints workflow commands with escaped data")
    func github() async throws {
        let directory = Self.invalid.appendingPathComponent("unknown-key").path
        let output = try await CLI.run(["check", "--config", directory, "--format", "github"])
        #expect(output.status == 1)
        let first = output.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("::error file=\(directory)/checks.yaml,line=3,col=5,title=unknown-key::unknown key 'scheduel' in check 'nightly'%0Anote: did you mean 'schedule'?"))
    }

    @Test("a dependency cycle in text, JSON and GitHub formats: once, at the closing entry, with a note at the other")
    func dependencyCycle() async throws {
        let directory = Self.invalid.appendingPathComponent("dependency-cycle").path
        let text = try await CLI.run(["check", "--config", directory])
        #expect(text.status == 1)
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "\(directory)/checks.yaml:5:18: error: dependency cycle: default/a → default/b → default/a [dependency-cycle]")
        #expect(lines.contains("\(directory)/checks.yaml:3:18: note: 'default/a' depends on 'default/b' here"))
        #expect(lines.last == "invalid: 2 checks in 1 project from 1 file; 1 error, 0 warnings")

        let json = try await CLI.run(["check", "--config", directory, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?["code"] as? String == "dependency-cycle")
        #expect(diagnostics.first?["line"] as? Int == 5)
        let notes = try #require(diagnostics.first?["notes"] as? [[String: Any]])
        #expect(notes.first?["line"] as? Int == 3)
        #expect(notes.first?["column"] as? Int == 18)

        let github = try await CLI.run(["check", "--config", directory, "--format", "github"])
        #expect(github.stdout.hasPrefix(
            "::error file=\(directory)/checks.yaml,line=5,col=18,title=dependency-cycle::dependency cycle: default/a → default/b → default/a"))
    }

    @Test("no colour when stdout is not a terminal")
    func noColour() async throws {
        let output = try await CLI.run(["check", "--config", Self.invalid.appendingPathComponent("unknown-key").path])
        #expect(!output.stdout.contains("\u{1B}["))
    }

    @Test("--resolve-secrets reports secrets that cannot be resolved, never their values")
    func resolveSecrets() async throws {
        let directory = Self.invalid.appendingPathComponent("missing-secret").path
        let unset = ["KIOTHC_TEST_UNSET_VARIABLE": ""]
        #expect(try await CLI.run(["check", "--config", directory], environment: unset).status == 0)
        let output = try await CLI.run(["check", "--config", directory, "--resolve-secrets"], environment: unset)
        #expect(output.status == 1)
        #expect(output.stdout.split(separator: "\n").filter { $0.contains("[missing-secret]") }.count == 2)
        let resolved = try await CLI.run(["check", "--config", directory, "--resolve-secrets"], environment: ["KIOTHC_TEST_UNSET_VARIABLE": "abcdefgh12"])
        #expect(resolved.stdout.split(separator: "\n").filter { $0.contains("[missing-secret]") }.count == 1)
        #expect(!resolved.stdout.contains("abcdefgh12"))
    }

    @Test("a missing directory exits 1 with a message on stderr; a bad flag exits 64")
    func failures() async throws {
        let missing = try await CLI.run(["check", "--config", "/nonexistent/checks.d"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("config directory '/nonexistent/checks.d' does not exist"))
        #expect(try await CLI.run(["check", "--format", "xml"]).status == 64)
        #expect(try await CLI.run(["check", "--no-such-flag"]).status == 64)
    }
}

@Suite("kiothc slug")
struct SlugCommandTests {
    @Test("text: one slug per line, in order")
    func text() async throws {
        let output = try await CLI.run(["slug", "Database Backup", "Café  Backup!", "__x__", "!!!"])
        #expect(output.status == 0)
        #expect(output.stdout == "database-backup\ncafe-backup\nx\n\n")
    }

    @Test("json: a list of name and slug")
    func json() async throws {
        let output = try await CLI.run(["slug", "--format", "json", "Daily Report", "a/b"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: String]])
        #expect(entries == [["name": "Daily Report", "slug": "daily-report"], ["name": "a/b", "slug": "ab"]])
    }

    @Test("no names is a usage error")
    func usage() async throws {
        #expect(try await CLI.run(["slug"]).status == 64)
    }
}
