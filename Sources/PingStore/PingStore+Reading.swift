#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Monitoring

extension PingStore {
    /// False once `close()` began: appends fail from then on (for the readiness probe).
    public var isOpen: Bool { queue.withLock { !$0.closing } }

    /// Reading goes through the same code as read-only tools use.
    public var reader: StoreReader { StoreReader(data) }

    /// The newest `limit` pings of `check`, newest first. Reads only the end of the file.
    public func pings(of check: UUID, limit: Int) throws -> [Ping] {
        try reader.pings(of: check, limit: limit)
    }

    /// The ping numbered `n`, nil when it is not (or no longer) stored.
    public func ping(of check: UUID, n: Int) throws -> Ping? {
        try reader.ping(of: check, n: n)
    }

    /// The newest `limit` flips of `check`, newest first.
    public func flips(of check: UUID, limit: Int) throws -> [StoredFlip] {
        try reader.flips(of: check, limit: limit)
    }

    /// UUIDs that have a pings or flips file (retired ones are elsewhere).
    public func storedChecks() throws -> Set<UUID> {
        try reader.storedChecks()
    }

    /// Move a deleted check's files to `retired/` (SPEC §1.3). Appends queued before this call
    /// land in the file first. Blocking.
    public func retire(_ check: UUID) throws {
        _ = try control(.retire(check))
    }

    func readBackwards(_ path: String, _ visit: (ArraySlice<UInt8>, String) throws -> Bool) throws {
        try reader.readBackwards(path, visit)
    }

    func decodeFlip(_ line: ArraySlice<UInt8>, path: String) throws -> StoredFlip {
        try reader.decodeFlip(line, path: path)
    }

    func decodePing(_ line: ArraySlice<UInt8>, path: String) throws -> Ping {
        try reader.decodePing(line, path: path)
    }
}
