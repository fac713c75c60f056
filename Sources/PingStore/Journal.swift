import Foundation

/// The group-commit journal (`journal/<sequence>.wal`): every record of a batch, whatever its
/// check, is appended here and made durable by one fdatasync; the per-check files get the same
/// lines with plain writes and are synced later, at a checkpoint.
///
/// A journal line is `P <uuid> <ping line>`, `F <uuid> <flip line>` or `A <uuid> <queued alert
/// line>`: the record exactly as its file holds it, prefixed with where it belongs (for `A`,
/// the check whose flip queued the alert; the line goes to `alerts/queued.jsonl`). Replay copies
/// records whose `n` is beyond the last one in their file.
enum Journal {
    enum Log: UInt8, Sendable {
        case pings = 0x50  // "P"
        case flips = 0x46  // "F"
        /// `alerts/queued.jsonl`, one file for all checks.
        case alerts = 0x41  // "A"
    }

    struct Entry: Equatable {
        var log: Log
        var check: UUID
        /// The per-check line, with its newline.
        var line: ArraySlice<UInt8>
    }

    static func append(_ log: Log, _ check: UUID, _ line: [UInt8], to buffer: inout [UInt8]) {
        buffer.append(log.rawValue)
        buffer.append(0x20)
        buffer.append(contentsOf: DataDirectory.name(check).utf8)
        buffer.append(0x20)
        buffer.append(contentsOf: line)
    }

    /// Entries of a segment, in order. An unterminated or malformed line (a batch that never
    /// finished, so never acknowledged) is counted in `skipped`, not applied. The segment ends
    /// where its zero-filled space begins (`StoreWriter.prepareJournal`): a line never starts
    /// with a NUL byte.
    static func parse(_ bytes: [UInt8]) -> (entries: [Entry], skipped: Int) {
        var entries: [Entry] = []
        var skipped = 0
        var start = 0
        // Zeros at the end are space prepared ahead, not a torn line.
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0 { end -= 1 }
        while start < end {
            if bytes[start] == 0 {
                // Zeros, then more: a batch whose start never reached the disk; what follows
                // was never acknowledged either (a batch is acknowledged after its sync).
                skipped += 1
                break
            }
            guard let newline = bytes[start..<end].firstIndex(of: 0x0A) else {
                skipped += 1
                break
            }
            let line = bytes[start...newline]
            start = newline + 1
            // "P " + 36 + " " + "{...}\n"
            guard line.count > 40, let log = Log(rawValue: line[line.startIndex]),
                line[line.startIndex + 1] == 0x20, line[line.startIndex + 38] == 0x20,
                let check = UUID(uuidString: String(decoding: line[(line.startIndex + 2)..<(line.startIndex + 38)], as: UTF8.self))
            else {
                skipped += 1
                continue
            }
            entries.append(Entry(log: log, check: check, line: line[(line.startIndex + 39)...]))
        }
        return (entries, skipped)
    }

    /// Segment sequence numbers present in the journal directory, oldest first.
    static func segments(in data: DataDirectory) throws -> [Int] {
        try FileSystem.list(data.journal).compactMap { name in
            guard name.hasSuffix(".wal") else { return nil }
            return Int(name.dropLast(4))
        }.sorted()
    }
}
