import Foundation

/// The git commit a configuration directory is checked out at (SPEC §16: "is my commit live
/// yet?"), read from `.git` directly — `HEAD`, loose refs, `packed-refs`, and a `.git` file
/// (`gitdir: …`, a worktree's or a submodule's, with the worktree's `commondir`) — so that no
/// `git` needs to be installed. Nil when the directory is in no work tree, or when anything
/// cannot be read or is not as git writes it (an unborn branch, a reftable store): a load never
/// fails because of git.
public struct GitRevision: Sendable, Equatable {
    /// 40 (SHA-1) or 64 (SHA-256) lower-case hex digits.
    public var commit: String
    /// The branch HEAD names (`main`), nil when HEAD is detached.
    public var branch: String?

    public init(commit: String, branch: String?) {
        self.commit = commit
        self.branch = branch
    }

    /// The first 7 digits, as `git log --oneline` shows them.
    public var short: String { String(commit.prefix(7)) }

    /// The revision of the work tree that holds `path` (a directory or a file): the nearest
    /// `.git` at or above it.
    public static func of(_ path: String) -> GitRevision? {
        var directory = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            directory.deleteLastPathComponent()
        }
        // At most 64 levels up: a path is never deeper, and a loop of links cannot hold us.
        for _ in 0..<64 {
            let dotGit = directory.appendingPathComponent(".git")
            if FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isDirectory) {
                return isDirectory.boolValue ? read(gitDirectory: dotGit) : linked(dotGit)
            }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { return nil }
            directory = parent
        }
        return nil
    }

    /// A `.git` file: `gitdir: <path>`, relative to the file's directory or absolute.
    private static func linked(_ file: URL) -> GitRevision? {
        guard let text = contents(file), text.hasPrefix("gitdir:") else { return nil }
        let target = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !target.isEmpty else { return nil }
        let directory = target.hasPrefix("/")
            ? URL(fileURLWithPath: target) : file.deletingLastPathComponent().appendingPathComponent(target)
        return read(gitDirectory: directory.standardizedFileURL)
    }

    /// HEAD of a git directory. A worktree's has its own HEAD, and its refs in the repository's
    /// (`commondir`).
    private static func read(gitDirectory: URL) -> GitRevision? {
        var common = gitDirectory
        if let text = contents(gitDirectory.appendingPathComponent("commondir")) {
            let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
            common = (path.hasPrefix("/") ? URL(fileURLWithPath: path) : gitDirectory.appendingPathComponent(path)).standardizedFileURL
        }
        guard var head = contents(gitDirectory.appendingPathComponent("HEAD"))?.trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        var branch: String?
        // A symbolic ref names another ref, which may itself be symbolic (rarely): a few hops.
        for _ in 0..<5 {
            guard head.hasPrefix("ref:") else {
                return isObjectName(head) ? GitRevision(commit: head.lowercased(), branch: branch) : nil
            }
            let name = head.dropFirst("ref:".count).trimmingCharacters(in: .whitespaces)
            guard isRefName(name) else { return nil }
            if branch == nil { branch = name.hasPrefix("refs/heads/") ? String(name.dropFirst("refs/heads/".count)) : name }
            // HEAD and the worktree's own refs live in its directory; branches in the common one.
            let loose = contents(gitDirectory.appendingPathComponent(name)) ?? contents(common.appendingPathComponent(name))
            if let loose {
                head = loose.trimmingCharacters(in: .whitespacesAndNewlines)
            } else if let packed = packedRef(name, in: common) {
                head = packed
            } else {
                return nil  // an unborn branch: no commit yet
            }
        }
        return nil
    }

    /// `packed-refs`: `<object name> <ref name>` lines, after a `# pack-refs` header; `^<name>`
    /// lines peel the tag above them.
    private static func packedRef(_ name: String, in directory: URL) -> String? {
        guard let text = contents(directory.appendingPathComponent("packed-refs")) else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") && !line.hasPrefix("^") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[1] == name { return String(parts[0]) }
        }
        return nil
    }

    private static func isObjectName(_ text: String) -> Bool {
        (text.count == 40 || text.count == 64) && text.allSatisfy(\.isHexDigit)
    }

    /// A ref under `refs/` without `..` (never a path out of the git directory).
    private static func isRefName(_ name: String) -> Bool {
        name.hasPrefix("refs/") && !name.contains("..") && !name.contains("\0") && !name.hasSuffix("/")
    }

    /// A small file's text (refs are one line; `packed-refs` of a big repository a few MiB).
    private static func contents(_ file: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 32 << 20) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
