import Foundation
import Runtime
import Testing

@Suite("kiothc --version")
struct VersionTests {
    @Test("prints 'kiothc VERSION (COMMIT)' from BuildInfo and exits 0")
    func version() async throws {
        let output = try await CLI.run(["--version"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stderr.isEmpty, "\(output.stderr)")
        #expect(output.stdout == "kiothc \(BuildInfo.version) (\(BuildInfo.commit ?? "unknown commit"))\n")
    }

    @Test("the version is semantic and the commit 12 hex digits (maybe -dirty) or unknown")
    func shape() async throws {
        let line = try await CLI.run(["--version"]).stdout
        let pattern = /kiothc [0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)? \((unknown commit|[0-9a-f]{12}(-dirty)?)\)\n/
        #expect(line.wholeMatch(of: pattern) != nil, "\(line)")
    }

    @Test("--help lists --version")
    func help() async throws {
        let help = try await CLI.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--version"), "\(help.stdout)")
    }

    @Test("a subcommand's --version prints the same line (swift-argument-parser looks up the command stack)")
    func onSubcommand() async throws {
        let root = try await CLI.run(["--version"])
        let sub = try await CLI.run(["check", "--version"])
        #expect(sub.status == 0)
        #expect(sub.stdout == root.stdout)
    }

    @Test("after --, --version belongs to the command (kiothc run's job), not to kiothc")
    func afterTerminator() async throws {
        let output = try await CLI.run(["schedule", "--", "--version"])
        #expect(output.status != 0)
        #expect(!output.stdout.hasPrefix("kiothc "), "\(output.stdout)")
        #expect(output.stderr.contains("--version"), "\(output.stderr)")
    }
}
