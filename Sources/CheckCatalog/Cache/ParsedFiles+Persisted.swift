import BlockingWork

/// `ParsedFiles` in a file of the data directory (`config-cache`), so a restart on the same
/// config files reads its checks back instead of parsing a fleet's YAML again. A cache only:
/// any doubt about it (another build wrote it, it is damaged, a file's bytes differ) means
/// the YAML is parsed, as with no cache at all; deleting it is always safe.
///
/// Layout: a header line, the format version, the build that wrote it, then per file: path,
/// length and `ContentHash` of its bytes, and its checks (`DraftCodec`) with their own.
extension ParsedFiles {
    static let magic = Array("kiothc decoded config\n".utf8)
    /// Bumped whenever `DraftCodec` or the drafts change shape.
    static let formatVersion: UInt64 = 1

    /// What a restart found.
    public enum Restored: Sendable {
        case restored(ParsedFiles)
        /// Not used, and why (for the log); the files are parsed.
        case ignored(String)
    }

    /// The cache as `persisted` wrote it, for the files of `build` (the binary's version,
    /// commit and identity: another build may decode the same YAML differently).
    public static func restoring(_ bytes: [UInt8], build: String) -> Restored {
        bytes.withUnsafeBytes { buffer -> Restored in
            var reader = CacheReader(buffer)
            do throws(CacheReader.Malformed) {
                guard bytes.starts(with: magic) else { return .ignored("it is not a kiothc config cache") }
                _ = try reader.range(magic.count)
                let version = try reader.unsigned()
                guard version == formatVersion else { return .ignored("it is format \(version); this build reads \(formatVersion)") }
                guard try reader.string() == build else { return .ignored("another build wrote it") }
                let count = try reader.count()
                var entries: [String: Entry] = [:]
                entries.reserveCapacity(count)
                for _ in 0..<count {
                    let path = try reader.string()
                    let length = try reader.int()
                    let hash = try reader.fixed()
                    let checksum = try reader.fixed()
                    let range = try reader.range(try reader.count())
                    entries[path] = Entry(length: length, hash: hash, content: .stored(bytes[range], checksum: checksum))
                }
                guard reader.isAtEnd else { return .ignored("it has bytes after its last file") }
                return .restored(ParsedFiles(entries: entries))
            } catch {
                return .ignored("it ends early or is damaged")
            }
        }
    }

    /// Every file of checks held, for `restoring` at the next start; clears `hasChanged`.
    public func persisted(build: String) -> [UInt8] {
        let entries = takeEntries().sorted { $0.key < $1.key }
        let payloads = parallelMap(entries.count) { index -> (ArraySlice<UInt8>, UInt64)? in
            switch entries[index].value.content {
            case .stored(let payload, let checksum):
                return (payload, checksum)
            case .decoded(let decoded):
                guard DraftCodec.isCacheable(decoded) else { return nil }
                let bytes = DraftCodec.encoded(decoded.0)
                return (bytes[...], ContentHash.of(bytes))
            }
        }
        var writer = CacheWriter(capacity: payloads.reduce(256) { $0 + ($1?.0.count ?? 0) + 64 })
        writer.raw(Self.magic)
        writer.unsigned(Self.formatVersion)
        writer.string(build)
        writer.unsigned(UInt64(payloads.count { $0 != nil }))
        for (entry, payload) in zip(entries, payloads) {
            guard let (bytes, checksum) = payload else { continue }
            writer.string(entry.key)
            writer.int(entry.value.length)
            writer.fixed(entry.value.hash)
            writer.fixed(checksum)
            writer.unsigned(UInt64(bytes.count))
            writer.raw(bytes)
        }
        return writer.bytes
    }
}
