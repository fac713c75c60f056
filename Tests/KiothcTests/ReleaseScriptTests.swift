import Foundation
import Testing

/// scripts/release and scripts/release-check refuse what they do not know before they build or
/// touch anything: usage on stderr, exit 2. (Their real work is the release-check group of the
/// test command: a tarball run in a clean Debian root.)
@Suite("scripts/release and scripts/release-check arguments")
struct ReleaseScriptTests {
    static func run(_ script: String, _ arguments: [String]) async throws -> Child.Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [CLI.repository.appendingPathComponent(script).path] + arguments
        process.currentDirectoryURL = CLI.repository
        return try await Child(process).output()
    }

    @Test("bad arguments: usage on stderr, exit 2", arguments: [
        ("scripts/release", ["--bogus"], "unknown argument '--bogus'"),
        ("scripts/release", ["dist"], "unknown argument 'dist'"),
        ("scripts/release", ["--output"], "--output needs a directory"),
        ("scripts/release", ["--output="], "--output needs a directory"),
        ("scripts/release", ["--jobs", "0"], "--jobs: '0' is not a positive number"),
        ("scripts/release", ["--jobs=two"], "--jobs: 'two' is not a positive number"),
        ("scripts/release-check", ["--bogus"], "unknown argument '--bogus'"),
        ("scripts/release-check", ["--tarball"], "--tarball needs a file"),
        ("scripts/release-check", ["--mirror="], "--mirror needs a URL"),
    ])
    func badArguments(script: String, arguments: [String], message: String) async throws {
        let output = try await Self.run(script, arguments)
        #expect(output.status == 2, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.isEmpty, "\(output.stdout)")
        #expect(output.stderr.contains(message), "\(output.stderr)")
        #expect(output.stderr.contains("Usage: \(script)"), "\(output.stderr)")
    }

    @Test("--help: usage on stdout, exit 0", arguments: ["scripts/release", "scripts/release-check"])
    func help(script: String) async throws {
        let output = try await Self.run(script, ["--help"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.hasPrefix("Usage: \(script)"), "\(output.stdout)")
    }
}
