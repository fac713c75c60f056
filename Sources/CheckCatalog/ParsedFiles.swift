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

    /// One hash of every file's path, length and content hash, in `paths` order: the bytes the
    /// last load read, without reading them again. nil when a file is not held (it could not
    /// be read, or is over the size limit: that load was invalid).
    func digest(of paths: [String]) -> UInt64? {
        entries.withLock { entries in
            var hash = FNV1a()
            for path in paths {
                guard let entry = entries[path] else { return nil }
                hash.add(path.utf8)
                hash.add(CollectionOfOne(0))
                withUnsafeBytes(of: UInt64(entry.length).littleEndian) { hash.add($0) }
                withUnsafeBytes(of: entry.hash.littleEndian) { hash.add($0) }
            }
            return hash.value
        }
    }

    /// Forgets files that are no longer part of the configuration.
    func keepOnly(_ paths: [String]) {
        let current = Set(paths)
        entries.withLock { entries in
            entries = entries.filter { current.contains($0.key) }
        }
    }
}
