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
    /// FNV-1a (64 bits) over each file's path, a NUL, its bytes and a NUL, in path order.
    public var hash: UInt64

    /// Reads every YAML file the loader would read. A file that vanishes while being read
    /// counts as empty: the next event or poll sees the tree settled.
    static func compute(directory: String) throws(ConfigDirectoryError) -> ConfigFingerprint {
        let paths = try ConfigDirectory.yamlFiles(under: directory)
        var hash = FNV1a()
        var files: [File] = []
        files.reserveCapacity(paths.count)
        for path in paths {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? Int) ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            files.append(File(path: path, size: size, modified: modified))
            hash.add(path.utf8)
            hash.add(CollectionOfOne(0))
            // The loader refuses files over 4 MiB without reading them; so does the hash.
            if size <= 4 * 1024 * 1024, let data = FileManager.default.contents(atPath: path) {
                // (Through its buffer: Data's own iterator costs more than the hash.)
                data.withUnsafeBytes { hash.add($0) }
            }
            hash.add(CollectionOfOne(0))
        }
        return ConfigFingerprint(files: files, hash: hash.value)
    }

    /// 16 hex digits, for logs, labels and JSON.
    public static func hex(_ hash: UInt64) -> String { AppliedCatalog.hex(hash) }

    /// The top 48 bits as a number a Prometheus sample (a float64) holds exactly, as
    /// Alertmanager's `alertmanager_config_hash` does.
    public static func metricValue(_ hash: UInt64) -> Double { Double(hash >> 16) }
}
