#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

extension PingStore {
    /// Keep the newest `keepPings` pings of `check`: the heavy part (read, write and fsync a
    /// temp file) runs on the calling thread while appends go on; the writer then copies what
    /// arrived meanwhile and renames, so no append is lost. Returns the number of pings
    /// dropped (0 when the file was within the limit). Blocking: run it off the request path.
    @discardableResult
    public func compact(_ check: UUID) throws -> Int {
        let claimed = shared.withLock { state -> Bool in
            state.compacting.insert(check).inserted
        }
        guard claimed else { return 0 }
        defer { _ = shared.withLock { $0.compacting.remove(check) } }

        let path = data.pingFile(check)
        // Read before the file: a rotation after this point is seen by the swap.
        let segment = shared.withLock { $0.journalSegment }
        guard let file = try RawFile.openIfExists(path, O_RDONLY) else { return 0 }
        let bytes: [UInt8]
        do {
            defer { file.close() }
            bytes = try file.read(at: 0, count: try file.size())
        }
        // Only whole lines: the writer may be halfway through an append.
        guard let lastNewline = bytes.lastIndex(of: 0x0A) else { return 0 }
        let complete = lastNewline + 1
        var lineStarts: [Int] = [0]
        var index = 0
        while index < lastNewline {
            if bytes[index] == 0x0A { lineStarts.append(index + 1) }
            index += 1
        }
        let dropped = lineStarts.count - options.keepPings
        guard dropped > 0 else { return 0 }

        let temp = "\(data.pings)/.\(DataDirectory.name(check)).jsonl.compact"
        do {
            let out = try RawFile.open(temp, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            defer { out.close() }
            try bytes[lineStarts[dropped]..<complete].withUnsafeBytes { try out.write($0) }
            try out.syncData()
        } catch {
            try? FileSystem.remove(temp)
            throw error
        }
        _ = try control(.swapCompacted(check: check, temp: temp, readUpTo: complete, segment: segment))
        shared.withLock { $0.statistics.compactions += 1 }
        return dropped
    }

    /// Compact the checks the writer saw grow by `keepPings / 4` pings or more.
    public func compactPending() throws {
        let due = shared.withLock { state -> Set<UUID> in
            defer { state.compactionWanted.removeAll() }
            return state.compactionWanted
        }
        var firstError: (any Error)?
        for check in due {
            do {
                try compact(check)
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// Compact every stored check (e.g. after `--keep-pings` was lowered).
    public func compactAll() throws {
        for check in try storedChecks() { try compact(check) }
    }
}
