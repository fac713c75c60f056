import Foundation
import Monitoring

#if canImport(Glibc)
import Glibc
#endif

/// Keeps `outbox.jsonl` small so a start reads little: once it passes `threshold`, the lines of
/// finished alerts (delivered, given up, withdrawn) move to `history/YYYY-MM.jsonl` (the month
/// the alert was created, UTC) and the outbox is rewritten with what is still pending. History
/// files are never read by the server; a month's file is deleted once the whole month is older
/// than the retention.
///
/// Order of writes: history first (appended, fsynced), then the outbox (temp file, fsync, rename,
/// directory fsync). A crash in between leaves the finished alerts in both; the next compaction
/// appends them to history again — a repeat in a record, never a lost or resent alert.
struct OutboxCompaction {
    static let threshold = 1024 * 1024

    let directory: String
    let now: Int64
    let retention: Int64

    var outboxPath: String { directory + "/outbox.jsonl" }
    var historyDirectory: String { directory + "/history" }

    /// Rewrites the outbox from `data` (its current bytes), keeping the lines of `pending` ids
    /// (lowercase UUIDs). Returns the size of the new outbox.
    @discardableResult
    func run(data: Data, pending: Set<String>) throws -> Int {
        let data = data.startIndex == 0 ? data : Data(data)  // ranges below are offsets
        // Each line's id and range in `data`; only its summary is read (`OutboxLineSummary`).
        var lines: [(id: String?, range: Range<Int>)] = []
        var created: [String: Int64] = [:]
        var lastMark: Range<Int>?
        data.withUnsafeBytes { bytes in
            var start = 0
            while start < bytes.count {
                let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n"))
                let end = newline ?? bytes.count
                defer { start = end + 1 }
                guard end > start else { continue }
                // An unreadable line (skipped at open) stays where it is, for a person to look at.
                let summary = OutboxLineSummary(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                if let summary, summary.type == .alert, let id = summary.id, let time = summary.created { created[id] = time }
                // Only the last `ingested` mark counts; it is kept, at the end, the others dropped.
                if summary?.type == .ingested {
                    lastMark = start..<end
                    continue
                }
                lines.append((summary?.id, start..<end))
            }
        }
        let newline = Data([0x0A])
        var kept = Data()
        var finished: [String: Data] = [:]  // month -> lines
        for line in lines {
            if let id = line.id, !pending.contains(id) {
                finished[UTCTime.month(created[id] ?? now), default: Data()].append(data[line.range] + newline)
            } else {
                kept.append(data[line.range] + newline)
            }
        }
        if let lastMark { kept.append(data[lastMark] + newline) }
        if !finished.isEmpty {
            try FileManager.default.createDirectory(atPath: historyDirectory, withIntermediateDirectories: true)
            for (month, lines) in finished.sorted(by: { $0.key < $1.key }) {
                try Self.append(lines, to: historyDirectory + "/" + month + ".jsonl")
            }
            try Self.syncDirectory(historyDirectory)
        }
        let temporary = directory + "/.outbox.jsonl.tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        defer { try? writer.close() }
        try writer.write(contentsOf: kept)
        try writer.synchronize()
        guard rename(temporary, outboxPath) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: outboxPath])
        }
        try Self.syncDirectory(directory)
        pruneHistory()
        return kept.count
    }

    /// Deletes history months that ended more than `retention` ago. Best effort: a file that
    /// cannot be removed is tried again at the next compaction.
    func pruneHistory() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: historyDirectory) else { return }
        let oldestKept = UTCTime.month(now - retention)
        for name in names where name.hasSuffix(".jsonl") && name.count == "YYYY-MM.jsonl".count {
            if String(name.prefix(7)) < oldestKept {
                try? FileManager.default.removeItem(atPath: historyDirectory + "/" + name)
            }
        }
    }

    private static func append(_ data: Data, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
        try handle.synchronize()
    }

    private static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }
}
