import Foundation
import Runtime
import Testing
import TestSupport

/// `GitRevision`: the commit a config directory is checked out at, read from `.git` without
/// `git`; the repositories are made by the real `git`.
@Suite("git revision of a config directory")
struct GitRevisionTests {
    final class Repository: Sendable {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-git-\(UUID().uuidString)")
        var work: URL { root.appendingPathComponent("repo") }
        var config: URL { work.appendingPathComponent("checks.d") }

        init() throws {
            try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        }

        /// Runs git (on a thread of its own) and returns its output, trimmed.
        @discardableResult
        func git(_ arguments: [String], in directory: URL? = nil) async throws -> String {
            let git = URL(fileURLWithPath: "/usr/bin/git")
            try #require(FileManager.default.isExecutableFile(atPath: git.path), "these tests need git (/usr/bin/git)")
            let process = Process()
            process.executableURL = git
            process.arguments = arguments
            process.currentDirectoryURL = directory ?? work
            process.environment = [
                "PATH": "/usr/bin:/bin", "HOME": root.path, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": root.appendingPathComponent("gitconfig").path,
                "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test",
                "GIT_COMMITTER_EMAIL": "test@example.com",
            ]
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try launch(process)
            let (out, err) = (output.fileHandleForReading, errors.fileHandleForReading)
            // Both pipes drained on threads of their own, then the exit awaited on another.
            let stdout = Background { out.readDataToEndOfFile() }
            let stderr = Background { err.readDataToEndOfFile() }
            let exit = await Background { process.waitForExit() }.value
            let text = String(decoding: await stdout.value, as: UTF8.self)
            let problem = String(decoding: await stderr.value, as: UTF8.self)
            try #require(exit.status == 0 && !exit.signalled, "git \(arguments.joined(separator: " ")): \(problem)")
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func commit(_ text: String) async throws -> String {
            try Data(text.utf8).write(to: config.appendingPathComponent("checks.yaml"))
            try await git(["add", "-A"])
            try await git(["commit", "-q", "-m", "change"])
            return try await git(["rev-parse", "HEAD"])
        }

        deinit { try? FileManager.default.removeItem(at: root) }
    }

    @Test("a config directory inside a work tree: the commit of HEAD and its branch, from loose refs and from packed-refs")
    func branch() async throws {
        let repository = try Repository()
        try await repository.git(["init", "-q", "-b", "main", "."])
        let first = try await repository.commit("checks: {a: {}}\n")
        #expect(GitRevision.of(repository.config.path) == GitRevision(commit: first, branch: "main"))
        // A file of the directory, and a relative path, find the same work tree.
        #expect(GitRevision.of(repository.config.appendingPathComponent("checks.yaml").path)?.commit == first)
        #expect(GitRevision(commit: first, branch: nil).short == String(first.prefix(7)))

        let second = try await repository.commit("checks: {b: {}}\n")
        try await repository.git(["pack-refs", "--all", "--prune"])
        #expect(!FileManager.default.fileExists(atPath: repository.work.appendingPathComponent(".git/refs/heads/main").path))
        #expect(GitRevision.of(repository.config.path) == GitRevision(commit: second, branch: "main"))
        // A loose ref newer than the packed one wins.
        let third = try await repository.commit("checks: {c: {}}\n")
        #expect(GitRevision.of(repository.config.path)?.commit == third)
    }

    @Test("a detached HEAD has its commit and no branch")
    func detached() async throws {
        let repository = try Repository()
        try await repository.git(["init", "-q", "-b", "main", "."])
        let first = try await repository.commit("checks: {a: {}}\n")
        _ = try await repository.commit("checks: {b: {}}\n")
        try await repository.git(["checkout", "-q", "--detach", first])
        #expect(GitRevision.of(repository.config.path) == GitRevision(commit: first, branch: nil))
    }

    @Test("a linked worktree (.git is a file naming its git directory; refs in the common one)")
    func worktree() async throws {
        let repository = try Repository()
        try await repository.git(["init", "-q", "-b", "main", "."])
        let first = try await repository.commit("checks: {a: {}}\n")
        let linked = repository.root.appendingPathComponent("linked")
        try await repository.git(["worktree", "add", "-q", "-b", "review", linked.path])
        try await repository.git(["pack-refs", "--all", "--prune"])
        let gitFile = try String(contentsOf: linked.appendingPathComponent(".git"), encoding: .utf8)
        #expect(gitFile.hasPrefix("gitdir: "))
        #expect(GitRevision.of(linked.appendingPathComponent("checks.d").path) == GitRevision(commit: first, branch: "review"))
    }

    @Test("a .git file with a relative gitdir (a submodule's layout)")
    func relativeGitFile() async throws {
        let repository = try Repository()
        try await repository.git(["init", "-q", "-b", "main", "."])
        let first = try await repository.commit("checks: {a: {}}\n")
        let moved = repository.root.appendingPathComponent("modules/repo")
        try FileManager.default.createDirectory(at: moved.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: repository.work.appendingPathComponent(".git"), to: moved)
        try Data("gitdir: ../modules/repo\n".utf8).write(to: repository.work.appendingPathComponent(".git"))
        #expect(GitRevision.of(repository.config.path) == GitRevision(commit: first, branch: "main"))
    }

    @Test("no repository, an unborn branch, a broken .git file or a HEAD that is not git's: nil, never an error")
    func nothing() async throws {
        let repository = try Repository()
        #expect(GitRevision.of(repository.config.path) == nil)
        #expect(GitRevision.of(repository.root.appendingPathComponent("missing").path) == nil)
        try await repository.git(["init", "-q", "-b", "main", "."])
        #expect(GitRevision.of(repository.config.path) == nil, "no commit yet")
        let first = try await repository.commit("checks: {a: {}}\n")
        let head = repository.work.appendingPathComponent(".git/HEAD")
        try Data("ref: refs/heads/../../../../etc/passwd\n".utf8).write(to: head)
        #expect(GitRevision.of(repository.config.path) == nil)
        try Data("not a ref\n".utf8).write(to: head)
        #expect(GitRevision.of(repository.config.path) == nil)
        try Data("\(first)\n".utf8).write(to: head)
        #expect(GitRevision.of(repository.config.path) == GitRevision(commit: first, branch: nil))

        let other = repository.root.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try Data("gitdir: /nonexistent/kiothc\n".utf8).write(to: other.appendingPathComponent(".git"))
        #expect(GitRevision.of(other.path) == nil)
        try Data("garbage".utf8).write(to: other.appendingPathComponent(".git"))
        #expect(GitRevision.of(other.path) == nil)
    }
}
