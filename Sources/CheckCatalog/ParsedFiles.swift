import Synchronization

/// What each config file decoded to, by path and content, kept between loads by the server:
/// a reload that edits one file of a thousand re-parses that one (SPEC §9: a reload that
/// changes one file of a 100,000-check fleet in under a second). A file is reused only when
/// its bytes are the same (length and `ContentHash`), whatever its modification time says.
///
/// The server also keeps them across restarts, in the data directory (`persisted`,
/// `restoring`): a file restored from there is read back from its binary form when first
/// asked for, not parsed.
public final class ParsedFiles: Sendable {
    struct Entry: Sendable {
        let length: Int
        let hash: UInt64
        var content: Content
    }

    enum Content: Sendable {
        case decoded((FileDraft, [Diagnostic]))
        /// `DraftCodec`'s bytes of a file of checks, and their FNV-1a, checked when read.
        case stored(ArraySlice<UInt8>, checksum: UInt64)
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Whether `persisted` would write something else than it last wrote (or was restored
        /// from): a file of checks parsed, or a file let go.
        var changed = false
        var restoredCount = 0
        var parsedCount = 0
    }

    private let state: Mutex<State>

    public init() {
        state = Mutex(State())
    }

    init(entries: [String: Entry]) {
        state = Mutex(State(entries: entries))
    }

    /// How many files are held.
    public var count: Int { state.withLock { $0.entries.count } }

    /// How many files the loads so far read back from the restored cache, and how many they
    /// parsed (for the start's log line).
    public var counts: (restored: Int, parsed: Int) { state.withLock { ($0.restoredCount, $0.parsedCount) } }

    /// Whether `persisted` has something new to write.
    public var hasChanged: Bool { state.withLock { $0.changed } }

    func decoded(_ path: String, bytes: [UInt8], schedules: ScheduleCache = ScheduleCache()) -> (FileDraft, [Diagnostic])? {
        guard let entry = state.withLock({ $0.entries[path] }), entry.length == bytes.count, entry.hash == ContentHash.of(bytes) else { return nil }
        switch entry.content {
        case .decoded(let decoded):
            return decoded
        case .stored(let payload, let checksum):
            // A damaged or foreign entry is parsed from the file instead, and written again.
            let draft = DraftCodec.read(payload, checksum: checksum, path: path, schedules: schedules)
            state.withLock { state in
                if let draft {
                    state.entries[path]?.content = .decoded((draft, []))
                    state.restoredCount += 1
                } else {
                    state.entries[path] = nil
                }
            }
            return draft.map { ($0, []) }
        }
    }

    func keep(_ decoded: (FileDraft, [Diagnostic]), for path: String, bytes: [UInt8]) {
        let entry = Entry(length: bytes.count, hash: ContentHash.of(bytes), content: .decoded(decoded))
        let known = state.withLock { state in
            state.entries[path] = entry
            state.parsedCount += 1
            return state.changed
        }
        // (Once one file changed the cache, the others need not be looked through: a first
        // start parses a thousand.)
        if !known && DraftCodec.isCacheable(decoded) { state.withLock { $0.changed = true } }
    }

    /// One hash of every file's path, length and content hash, in `paths` order: the bytes the
    /// last load read, without reading them again. nil when a file is not held (it could not
    /// be read, or is over the size limit: that load was invalid).
    func digest(of paths: [String]) -> UInt64? {
        state.withLock { state in
            var digest = ConfigDigest()
            for path in paths {
                guard let entry = state.entries[path] else { return nil }
                digest.add(path: path, length: entry.length, hash: entry.hash)
            }
            return digest.value
        }
    }

    /// Forgets files that are no longer part of the configuration.
    func keepOnly(_ paths: [String]) {
        let current = Set(paths)
        state.withLock { state in
            let before = state.entries.count
            state.entries = state.entries.filter { current.contains($0.key) }
            if state.entries.count != before { state.changed = true }
        }
    }

    /// Every entry, for `persisted`; and clears `hasChanged`.
    func takeEntries() -> [String: Entry] {
        state.withLock { state in
            state.changed = false
            return state.entries
        }
    }
}

/// One hash of a config tree: each file's path, length and FNV-1a of its bytes, in path
/// order. The server's config hash (`ConfigFingerprint`) and the load's digest are this.
public struct ConfigDigest: Sendable {
    private var hash = FNV1a()

    public init() {}

    public var value: UInt64 { hash.value }

    public mutating func add(path: String, length: Int, hash bytesHash: UInt64) {
        hash.add(path.utf8)
        hash.add(CollectionOfOne(0))
        withUnsafeBytes(of: UInt64(truncatingIfNeeded: length).littleEndian) { hash.add($0) }
        withUnsafeBytes(of: bytesHash.littleEndian) { hash.add($0) }
    }
}
