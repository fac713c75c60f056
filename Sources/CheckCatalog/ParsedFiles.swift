import Synchronization

/// What each config file decoded to, by path and content, kept between loads by the server:
/// a reload that edits one file of a thousand re-parses that one (SPEC §9: a reload that
/// changes one file of a 100,000-check fleet in under a second). A file is reused only when
/// its bytes are the same (length and a 64-bit hash), whatever its modification time says.
public final class ParsedFiles: Sendable {
    struct Entry: Sendable {
        let length: Int
        let hash: UInt64
        let decoded: (FileDraft, [Diagnostic])
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// How many files are held.
    public var count: Int { entries.withLock { $0.count } }

    func decoded(_ path: String, bytes: [UInt8]) -> (FileDraft, [Diagnostic])? {
        guard let entry = entries.withLock({ $0[path] }), entry.length == bytes.count, entry.hash == FNV1a.of(bytes) else { return nil }
        return entry.decoded
    }

    func keep(_ decoded: (FileDraft, [Diagnostic]), for path: String, bytes: [UInt8]) {
        let entry = Entry(length: bytes.count, hash: FNV1a.of(bytes), decoded: decoded)
        entries.withLock { $0[path] = entry }
    }

    /// Forgets files that are no longer part of the configuration.
    func keepOnly(_ paths: [String]) {
        let current = Set(paths)
        entries.withLock { entries in
            entries = entries.filter { current.contains($0.key) }
        }
    }
}
