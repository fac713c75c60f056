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
        try compact(check, .pings) { lines in max(0, lines.count - options.keepPings) }
    }

    /// Drop the flips of `check` older than `FlipRetention.age` at `now`, but never the newest
    /// `FlipRetention.newest` (SPEC §4: flips are kept at least 93 days; the newest also hold
    /// the runtime pause state). Flips are nearly in time order (a timeout flip is stamped at
    /// its deadline, possibly before a ping flip stored just ahead of it): the cut stops at
    /// the first flip that is young enough. Returns the number of flips dropped.
    @discardableResult
    public func compactFlips(_ check: UUID, now: Int64) throws -> Int {
        try compact(check, .flips) { lines in
            let cutoff = now - FlipRetention.age
            var dropped = 0
            for line in lines.prefix(max(0, lines.count - FlipRetention.newest)) {
                guard let flip = try? FlipLine.decode(line), flip.flip.time < cutoff else { break }
                dropped += 1
            }
            return dropped
        }
    }

    /// Rewrites one of the check's files without its first `dropping(lines)` lines.
    private func compact(_ check: UUID, _ log: Journal.Log, dropping: ([ArraySlice<UInt8>]) -> Int) throws -> Int {
        let claimed = shared.withLock { state -> Bool in
            state.compacting.insert(CompactionTarget(check: check, log: log)).inserted
        }
        guard claimed else { return 0 }
        defer { _ = shared.withLock { $0.compacting.remove(CompactionTarget(check: check, log: log)) } }

        let directory = log == .pings ? data.pings : data.flips
        return try rewrite(data.file(of: log, check), through: "\(directory)/.\(DataDirectory.name(check)).jsonl.compact", dropping: dropping)
    }

    /// Rewrites the file at `path` without its first `dropping(lines)` whole lines: written to
    /// `temp` and synced on this thread while appends go on, then swapped in by the writer,
    /// which first copies what was appended meanwhile (compactions and the trim of the queued
    /// alerts). Returns the lines dropped.
    func rewrite(_ path: String, through temp: String, dropping: ([ArraySlice<UInt8>]) -> Int) throws -> Int {
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
        let lines = bytes[..<lastNewline].split(separator: 0x0A, omittingEmptySubsequences: false)
        let dropped = dropping(lines)
        guard dropped > 0 else { return 0 }
        let keepFrom = lines[dropped].startIndex

        do {
            let out = try RawFile.open(temp, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            defer { out.close() }
            try bytes[keepFrom..<complete].withUnsafeBytes { try out.write($0) }
            try out.syncData()
        } catch {
            try? FileSystem.remove(temp)
            throw error
        }
        _ = try control(.swapCompacted(path: path, temp: temp, readUpTo: complete, segment: segment))
        shared.withLock { $0.statistics.compactions += 1 }
        return dropped
    }

    /// Compact the checks the writer saw grow by `keepPings / 4` pings, or by
    /// `FlipRetention.compactionSlack` flips, or more. `now` (flips) defaults to the wall clock.
    public func compactPending(now: Int64 = Int64(Date().timeIntervalSince1970 * 1_000_000)) throws {
        let due = shared.withLock { state -> (pings: Set<UUID>, flips: Set<UUID>) in
            defer {
                state.compactionWanted.removeAll()
                state.flipCompactionWanted.removeAll()
            }
            return (state.compactionWanted, state.flipCompactionWanted)
        }
        var firstError: (any Error)?
        for check in due.pings {
            do {
                try compact(check)
            } catch {
                firstError = firstError ?? error
            }
        }
        for check in due.flips {
            do {
                try compactFlips(check, now: now)
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

/// How long flips are kept (SPEC §4: at least 93 days).
public enum FlipRetention {
    public static let age: Int64 = 93 * 86_400 * 1_000_000
    /// Never dropped, whatever their age: startup reads the newest flips for the status and
    /// the runtime pause state (`StateScan`), and the outbox looks for held alerts' flips there.
    public static let newest = 64
    /// Flips appended to a check before the writer asks for its compaction.
    static let compactionSlack = 256
}

/// A file being compacted.
struct CompactionTarget: Hashable, Sendable {
    let check: UUID
    let log: Journal.Log
}
