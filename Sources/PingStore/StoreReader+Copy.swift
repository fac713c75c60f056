import Foundation
import Monitoring

// What `kiothc store copy` reads from and writes to a data directory besides the appends:
// every kept ping and flip of a check (a retired one's too), and the identity files.

extension StoreReader {
    /// Every kept ping of `check`, oldest first; from `retired/` for a retired check (or from
    /// `pings/` when its file was not moved there).
    public func allPings(of check: UUID, retired: Bool) throws -> [Ping] {
        let path = retired && FileSystem.exists(data.retiredPingFile(check)) ? data.retiredPingFile(check) : data.pingFile(check)
        var result: [Ping] = []
        try readBackwards(path) { line, path in
            result.append(try decodePing(line, path: path))
            return true
        }
        return result.reversed()
    }

    /// Every flip of `check`, oldest first; from `retired/` for a retired check (or from
    /// `flips/` when its file was not moved there).
    public func allFlips(of check: UUID, retired: Bool) throws -> [StoredFlip] {
        let path = retired && FileSystem.exists(data.retiredFlipFile(check)) ? data.retiredFlipFile(check) : data.flipFile(check)
        var result: [StoredFlip] = []
        try readBackwards(path) { line, path in
            result.append(try decodeFlip(line, path: path))
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
