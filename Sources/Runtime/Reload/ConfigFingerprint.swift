import BlockingWork
import CheckCatalog
import Foundation
import PingStore

/// What the config tree looks like now: every YAML file's path, size and modification time,
/// and one hash of all paths and contents. The poll compares fingerprints to notice a change
/// inotify missed; the reloader compares hashes to skip a reload that would change nothing
/// (a `touch`, an editor's backup file) and to log a rejected config once per content.
public struct ConfigFingerprint: Sendable, Equatable {
    public struct File: Sendable, Equatable {
        public var path: String
        public var size: Int
        var modified: Double
    }

    public var files: [File]
    /// `ConfigDigest` of every file: its path, length and `ContentHash` of its bytes, in path order
    /// (a file over the loader's 4 MiB limit, which it refuses unread, counts its size alone).
    public var hash: UInt64

    /// Reads every YAML file the loader would read, on every core. A file that vanishes while
    /// being read counts as empty: the next event or poll sees the tree settled.
    static func compute(directory: String) throws(ConfigDirectoryError) -> ConfigFingerprint {
        let paths = try ConfigDirectory.yamlFiles(under: directory)
        let read = parallelMap(paths.count) { index -> (File, hash: UInt64) in
            let file = Self.file(paths[index])
            guard file.size <= 4 * 1024 * 1024, let data = FileManager.default.contents(atPath: file.path) else { return (file, 0) }
            // (Through its buffer: Data's own iterator costs more than the hash.)
            return (File(path: file.path, size: data.count, modified: file.modified), data.withUnsafeBytes { ContentHash.of($0) })
        }
        var digest = ConfigDigest()
        for (file, hash) in read { digest.add(path: file.path, length: file.size, hash: hash) }
        return ConfigFingerprint(files: read.map(\.0), hash: digest.value)
    }

    /// The fingerprint of the files a load read, from their sizes and times now (taken before
    /// the load) and the load's digest of the bytes it parsed: the same as `compute`, without
    /// reading a fleet's files twice. `compute` when the load has no digest.
    static func of(directory: String, loadedFrom statBeforeLoad: [File], digest: UInt64?) throws(ConfigDirectoryError) -> ConfigFingerprint {
        guard let digest else { return try compute(directory: directory) }
        return ConfigFingerprint(files: statBeforeLoad, hash: digest)
    }

    /// Every YAML file's path, size and modification time, not read.
    static func files(directory: String) throws(ConfigDirectoryError) -> [File] {
        try ConfigDirectory.yamlFiles(under: directory).map(file)
    }

    private static func file(_ path: String) -> File {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? Int) ?? -1
        let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return File(path: path, size: size, modified: modified)
    }

    /// 16 hex digits, for logs, labels and JSON.
    public static func hex(_ hash: UInt64) -> String { AppliedCatalog.hex(hash) }

    /// The top 48 bits as a number a Prometheus sample (a float64) holds exactly, as
    /// Alertmanager's `alertmanager_config_hash` does.
    public static func metricValue(_ hash: UInt64) -> Double { Double(hash >> 16) }
}
