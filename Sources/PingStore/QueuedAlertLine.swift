/// One alert queued with its flip, as read back from `alerts/queued.jsonl`: the store's number
/// and the record exactly as the caller (Alerting) encoded it.
public struct QueuedAlert: Sendable, Hashable {
    /// Numbers the lines of the log from 1, in the order the store acknowledged them; never
    /// reused, also after a trim.
    public var n: Int
    /// One JSON object, without a newline.
    public var record: [UInt8]

    public init(n: Int, record: [UInt8]) {
        self.n = n
        self.record = record
    }
}

/// The line schema of `alerts/queued.jsonl`, version 1 (docs/storage.md): the store wraps each
/// record it is given in an object of its own, so it can number it without knowing what an
/// alert is:
///
///     {"v":1,"n":12,"alert":{...the record...}}
///
/// The store writes the prefix itself, always the same way, so the number is read by matching
/// it, not by parsing the record.
enum QueuedAlertLine {
    private static let prefix = Array(#"{"v":1,"n":"#.utf8)
    private static let infix = Array(#","alert":"#.utf8)

    static func encode(n: Int, record: [UInt8]) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(prefix.count + 20 + infix.count + record.count + 2)
        line += prefix
        line += String(n).utf8
        line += infix
        line += record
        line.append(0x7D)  // }
        line.append(0x0A)
        return line
    }

    /// The number and the record of a line (without its newline); nil when the line is not one
    /// the store wrote.
    static func decode(_ line: ArraySlice<UInt8>) -> QueuedAlert? {
        guard let (n, recordStart) = numberAndRest(line), line.count >= 2, line.last == 0x7D else { return nil }
        let record = line[recordStart..<(line.endIndex - 1)]
        guard record.first == 0x7B, record.last == 0x7D else { return nil }
        return QueuedAlert(n: n, record: Array(record))
    }

    static func number(_ line: ArraySlice<UInt8>) -> Int? {
        guard let (n, _) = numberAndRest(line), line.last == 0x7D else { return nil }
        return n
    }

    private static func numberAndRest(_ line: ArraySlice<UInt8>) -> (Int, ArraySlice<UInt8>.Index)? {
        guard line.starts(with: prefix) else { return nil }
        var index = line.startIndex + prefix.count
        var n = 0
        var digits = 0
        while index < line.endIndex, line[index] >= 0x30, line[index] <= 0x39, digits < 18 {
            n = n * 10 + Int(line[index] - 0x30)
            index += 1
            digits += 1
        }
        guard digits > 0, n > 0, line[index...].starts(with: infix) else { return nil }
        return (n, index + infix.count)
    }

    /// Why `record` cannot be written as one line: it must be one JSON object on one line.
    static func problem(_ record: [UInt8]) -> String? {
        guard record.count >= 2, record.first == 0x7B, record.last == 0x7D else {
            return "an alert record must be one JSON object"
        }
        if record.contains(0x0A) { return "an alert record must not contain a newline" }
        return nil
    }
}
