import Foundation
import Monitoring

// What `kiothc store copy` reads from and writes to a data directory besides the appends:
// every kept ping and flip of a check (a retired one's too), and the identity files.

extension StoreReader {
    /// Every kept ping of `check`, oldest first; from `retired/` for a retired check (or from
    /// `pings/` when its file was not moved there).
    public func allPings(of check: UUID, retired: Bool) throws -> [Ping] {
        try allLines(retired ? data.retiredPingFile(check) : nil, else: data.pingFile(check), decodePing)
    }

    /// Every flip of `check`, oldest first; from `retired/` for a retired check (or from
    /// `flips/` when its file was not moved there).
    public func allFlips(of check: UUID, retired: Bool) throws -> [StoredFlip] {
        try allLines(retired ? data.retiredFlipFile(check) : nil, else: data.flipFile(check), decodeFlip)
    }

    /// Every line of `preferred` when that file exists, else of `fallback`, decoded, oldest first.
    private func allLines<T>(
        _ preferred: String?, else fallback: String, _ decode: (ArraySlice<UInt8>, String) throws -> T
    ) throws -> [T] {
        let path = preferred.map { FileSystem.exists($0) ? $0 : fallback } ?? fallback
        var result: [T] = []
        try readBackwards(path) { line, path in
            result.append(try decode(line, path))
            return true
        }
        return result.reversed()
    }
}

extension Registry {
    /// Writes this registry as `registry.json` of `data` (atomically), whatever it was.
    public func write(to data: DataDirectory) throws {
        try Registry(checks: checks, retired: retired, path: data.registry).save()
    }
}

extension PingKeys {
    /// Writes these keys as `ping-keys.json` of `data` (atomically), whatever it was.
    public func write(to data: DataDirectory) throws {
        try PingKeys(keys: keys, path: data.pingKeys).save()
    }
}
