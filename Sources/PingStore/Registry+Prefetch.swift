import Foundation

extension Registry {
    /// `registry.json` read before the server holds the data directory, on a thread of its own
    /// while the configuration loads (a million checks' registry is most of a second), with
    /// which file it was.
    public struct Prefetched: Sendable {
        public let registry: Registry
        fileprivate let file: FileIdentity?

        /// Whether `registry.json` is still the file that was read: every write replaces it by
        /// a rename, so a write since is a new inode. Then `registry` is what `load` reads now.
        public func isCurrent(in data: DataDirectory) -> Bool {
            file == FileIdentity(data.registry)
        }
    }

    /// The registry as `load` reads it, noting first which file it is (a file replaced while
    /// it is read is then not current, which is safe).
    public static func prefetch(from data: DataDirectory) throws -> Prefetched {
        let file = FileIdentity(data.registry)
        return Prefetched(registry: try load(from: data), file: file)
    }
}

/// Which file a path names and what it was when looked at; nil for no file.
private struct FileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modified: timespec

    init?(_ path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int64(status.st_size)
        modified = status.st_mtim
    }

    static func == (a: FileIdentity, b: FileIdentity) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size && a.modified.tv_sec == b.modified.tv_sec
            && a.modified.tv_nsec == b.modified.tv_nsec
    }
}
