#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Monitoring

/// Reads a data directory without writing to it: no directory is created, no torn line is
/// repaired, no journal is replayed, no lock is taken. `kiothc status` and `kiothc pings` use it
/// while a server may be running; the server reads through the same code (`PingStore.reader`).
///
/// A reader sees what the per-check files hold. After a crash, records still only in the journal
/// appear once the server has started again and replayed it; a torn last line is skipped.
public struct StoreReader: Sendable {
    public let data: DataDirectory

    public init(_ data: DataDirectory) {
        self.data = data
    }

    /// The newest `limit` pings of `check`, newest first. Reads only the end of the file.
    public func pings(of check: UUID, limit: Int) throws -> [Ping] {
        guard limit > 0 else { return [] }
        var result: [Ping] = []
        try readBackwards(data.pingFile(check)) { line, path in
            result.append(try decodePing(line, path: path))
            return result.count < limit
        }
        return result
    }

    /// The newest `limit` pings of a retired check (removed from config), newest first: from
    /// `retired/`, or from `pings/` when the server could not move its file there.
    public func retiredPings(of check: UUID, limit: Int) throws -> [Ping] {
        guard FileSystem.exists(data.retiredPingFile(check)) else { return try pings(of: check, limit: limit) }
        guard limit > 0 else { return [] }
        var result: [Ping] = []
        try readBackwards(data.retiredPingFile(check)) { line, path in
            result.append(try decodePing(line, path: path))
            return result.count < limit
        }
        return result
    }

    /// The ping numbered `n`, nil when it is not (or no longer) stored.
    public func ping(of check: UUID, n: Int) throws -> Ping? {
        var found: Ping?
        try readBackwards(data.pingFile(check)) { line, path in
            let ping = try decodePing(line, path: path)
            if ping.n == n { found = ping }
            return ping.n > n
        }
        return found
    }

    /// The newest `limit` flips of `check`, newest first.
    public func flips(of check: UUID, limit: Int) throws -> [StoredFlip] {
        guard limit > 0 else { return [] }
        var result: [StoredFlip] = []
        try readBackwards(data.flipFile(check)) { line, path in
            result.append(try decodeFlip(line, path: path))
            return result.count < limit
        }
        return result
    }

    /// UUIDs that have a pings or flips file (retired ones are elsewhere).
    public func storedChecks() throws -> Set<UUID> {
        var checks: Set<UUID> = []
        for directory in [data.pings, data.flips] {
            for name in try FileSystem.list(directory) {
                if let check = DataDirectory.check(fromFileName: name) { checks.insert(check) }
            }
        }
        return checks
    }

    /// Calls `visit` with each complete line, newest first, until it returns false.
    func readBackwards(_ path: String, _ visit: (ArraySlice<UInt8>, String) throws -> Bool) throws {
        guard let file = try RawFile.openIfExists(path, O_RDONLY) else { return }
        defer { file.close() }
        var reader = try TailReader(file: file, size: try file.size())
        while let line = try reader.previousLine() {
            if try !visit(line, path) { return }
        }
    }

    func decodeFlip(_ line: ArraySlice<UInt8>, path: String) throws -> StoredFlip {
        do {
            return try FlipLine.decode(line)
        } catch {
            throw StoreError(.corrupt, operation: "read", path: path, detail: error.reason)
        }
    }

    func decodePing(_ line: ArraySlice<UInt8>, path: String) throws -> Ping {
        do {
            return try PingLine.decode(line)
        } catch {
            throw StoreError(.corrupt, operation: "read", path: path, detail: error.reason)
        }
    }
}
