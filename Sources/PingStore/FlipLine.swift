import Monitoring

/// A flip as the store keeps it: numbered per check so journal replay can tell which are
/// already in the file.
public struct StoredFlip: Sendable, Hashable {
    public var n: Int
    public var flip: Flip
    public init(n: Int, flip: Flip) {
        self.n = n
        self.flip = flip
    }
}

/// The line schema of `flips/<uuid>.jsonl`, version 1:
///
///     {"v":1,"n":3,"time_us":1732700000123456,"old":"up","new":"down","reason":"timeout"}
///
/// A flip marked by maintenance or dependencies (SPEC §14) adds `"maintenance":true` and
/// `"suppressed_by":["ops/db"]`, each only when set (lines without them read as unmarked).
enum FlipLine {
    static let version: Int64 = 1

    static func encode(_ stored: StoredFlip) -> [UInt8] {
        var writer = JSONLineWriter(capacity: 112)
        writer.field("v", version)
        writer.field("n", stored.n)
        writer.field("time_us", stored.flip.time)
        writer.field("old", stored.flip.old.rawValue)
        writer.field("new", stored.flip.new.rawValue)
        writer.field("reason", stored.flip.reason.rawValue)
        if stored.flip.maintenance { writer.field("maintenance", json: Array("true".utf8)) }
        if !stored.flip.suppressedBy.isEmpty { writer.field("suppressed_by", strings: stored.flip.suppressedBy) }
        return writer.line()
    }

    static func decode(_ line: ArraySlice<UInt8>) throws(LineError) -> StoredFlip {
        let record = try LineFields(parsing: line, version: Self.version)
        let old = try record.string("old")
        let new = try record.string("new")
        let reason = try record.string("reason")
        guard let oldStatus = CheckState.Status(rawValue: old) else { throw LineError("unknown status '\(old)'") }
        guard let newStatus = CheckState.Status(rawValue: new) else { throw LineError("unknown status '\(new)'") }
        guard let why = Flip.Reason(rawValue: reason) else { throw LineError("unknown reason '\(reason)'") }
        return StoredFlip(
            n: Int(try record.integer("n")),
            flip: Flip(
                time: try record.integer("time_us"), old: oldStatus, new: newStatus, reason: why, maintenance: try record.optionalBool("maintenance") ?? false,
                suppressedBy: try record.optionalStrings("suppressed_by") ?? []))
    }

    /// Only the sequence number, for replay.
    static func number(_ line: ArraySlice<UInt8>) throws(LineError) -> Int {
        try decode(line).n
    }
}
