#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What `PingStore.open` does before accepting appends: cut torn last lines, then copy from the
/// journal every record a per-check file lacks, so every acknowledged ping is in its file.
struct Recovery {
    let data: DataDirectory

    /// The files of the data directory's top level that are replaced by an atomic write.
    static let replacedFiles = ["registry.json", "ping-keys.json", "catalog.json", "config-cache", "clean-shutdown"]

    /// Removes the temporary copy (`.<name>.tmp-<pid>`) of a top-level file whose write never
    /// reached its rename: a server killed while writing a million checks' `catalog.json`
    /// left 300 MB behind. The server holds the directory's lock, so no write is under way.
    func removeInterruptedWrites() throws {
        for name in try FileSystem.list(data.path) where name.hasPrefix(".") {
            guard let dot = name.range(of: ".tmp-", options: .backwards),
                  Self.replacedFiles.contains(String(name[name.index(after: name.startIndex)..<dot.lowerBound])),
                  !name[dot.upperBound...].isEmpty, name[dot.upperBound...].allSatisfy({ $0.isASCII && $0.isNumber })
            else { continue }
            try FileSystem.remove("\(data.path)/\(name)")
        }
    }

    /// Returns the report and the sequence number for the new journal segment.
    func run() throws -> (PingStore.RecoveryReport, Int) {
        var report = PingStore.RecoveryReport()
        // After a clean close every file was synced whole: no line can be torn, and 10,000
        // files need not be opened twice at startup.
        let clean = FileSystem.exists(data.cleanShutdown)
        if clean {
            try FileSystem.remove(data.cleanShutdown)
            try FileSystem.syncDirectory(data.path)
        }
        try removeInterruptedWrites()
        for directory in [data.pings, data.flips] where !clean {
            for name in try FileSystem.list(directory) {
                let path = "\(directory)/\(name)"
                if name.hasPrefix(".") {
                    // A compaction or atomic write that never reached its rename.
                    try FileSystem.remove(path)
                    continue
                }
                guard DataDirectory.check(fromFileName: name) != nil else { continue }
                if try repairTornLine(path) {
                    report.tornLinesRepaired += 1
                    report.repairedFiles.append(path)
                }
            }
        }
        // A trim of the queued alerts that never reached its rename (the outbox's own temp
        // files in alerts/ are the outbox's business).
        let trim = "\(data.alerts)/.queued.jsonl.compact"
        if FileSystem.exists(trim) { try FileSystem.remove(trim) }
        if !clean, FileSystem.exists(data.queuedAlerts), try repairTornLine(data.queuedAlerts) {
            report.tornLinesRepaired += 1
            report.repairedFiles.append(data.queuedAlerts)
        }

        let segments = try Journal.segments(in: data)
        report.journalSegments = segments.count
        var lastNumbers: [String: Int] = [:]
        var pending: [String: [UInt8]] = [:]
        var order: [String] = []
        for segment in segments {
            let path = data.journalSegment(segment)
            let bytes = try FileSystem.readAll(path) ?? []
            let (entries, skipped) = Journal.parse(bytes)
            report.journalLinesSkipped += skipped
            for entry in entries {
                let target = data.file(of: entry.log, entry.check)
                // A retired check keeps its files in retired/; do not bring them back. Its
                // queued alerts were acknowledged with their flip, and stay.
                if entry.log != .alerts,
                    FileSystem.exists(data.retiredPingFile(entry.check)) || FileSystem.exists(data.retiredFlipFile(entry.check))
                {
                    continue
                }
                let body = entry.line.dropLast()  // the newline
                guard let n = Self.number(body, log: entry.log) else {
                    report.journalLinesSkipped += 1
                    continue
                }
                let last = try lastNumbers[target] ?? lastNumber(in: target, log: entry.log)
                guard n > last else {
                    lastNumbers[target] = last
                    continue
                }
                lastNumbers[target] = n
                if pending[target] == nil { order.append(target) }
                pending[target, default: []].append(contentsOf: entry.line)
                report.recordsReplayed += 1
            }
        }
        for path in order {
            guard let bytes = pending[path] else { continue }
            let file = try RawFile.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o644)
            defer { file.close() }
            try file.write(bytes)
            try file.syncData()
        }
        try FileSystem.syncDirectory(data.pings)
        try FileSystem.syncDirectory(data.flips)
        try FileSystem.syncDirectory(data.alerts)
        // Everything the journal held is now durable in the per-check files.
        for segment in segments { try FileSystem.remove(data.journalSegment(segment)) }
        try FileSystem.syncDirectory(data.journal)
        return (report, (segments.last ?? 0) + 1)
    }

    /// Cut an unterminated last line (a write torn by a crash); true if one was cut.
    func repairTornLine(_ path: String) throws -> Bool {
        let file = try RawFile.open(path, O_RDWR)
        defer { file.close() }
        let size = try file.size()
        guard size > 0 else { return false }
        let last = try file.read(at: size - 1, count: 1)
        guard last.first != 0x0A else { return false }
        let reader = try TailReader(file: file, size: size)
        try file.truncate(to: reader.completeLength)
        try file.syncData()
        return true
    }

    private func lastNumber(in path: String, log: Journal.Log) throws -> Int {
        guard let file = try RawFile.openIfExists(path, O_RDONLY) else { return 0 }
        defer { file.close() }
        var reader = try TailReader(file: file, size: try file.size())
        guard let line = try reader.previousLine() else { return 0 }
        guard let n = Self.number(line, log: log) else {
            throw StoreError(.corrupt, operation: "recover", path: path,
                             detail: "its last line is not a valid record; move the file aside and restart")
        }
        return n
    }

    static func number(_ line: ArraySlice<UInt8>, log: Journal.Log) -> Int? {
        switch log {
        case .pings: try? PingLine.decode(line).n
        case .flips: try? FlipLine.number(line)
        case .alerts: QueuedAlertLine.number(line)
        }
    }
}
