import Foundation
import Monitoring
import PingStore
import PostgresNIO

/// Pings and flips as the batch writes them (`jsonb_to_recordset` objects) and as reads
/// return them.
enum PingRecords {
    static let pingColumns = "n, time_us, kind, method, scheme, remote_addr, user_agent, body, body_size, exit_status, rid, duration_us"

    static let pingRecordColumns =
        "check_uuid uuid, n bigint, time_us bigint, kind text, method text, scheme text, remote_addr text, user_agent text, body text, body_size integer, exit_status integer, rid uuid, duration_us bigint"

    /// The body travels base64-encoded into a `bytea` column: PostgreSQL's text cannot hold
    /// U+0000, which a body may.
    static func record(_ ping: Ping, of check: UUID) -> [UInt8] {
        var object = JSONLineWriter(capacity: 256 + (ping.body?.utf8.count ?? 0) * 4 / 3)
        object.field("check_uuid", check)
        object.field("n", Int64(ping.n))
        object.field("time_us", ping.time)
        object.field("kind", ping.kind.rawValue)
        object.field("method", text(ping.method))
        object.field("scheme", text(ping.scheme))
        object.field("remote_addr", text(ping.remoteAddress))
        object.field("user_agent", text(ping.userAgent))
        object.field("body", ping.body.map { Data($0.utf8).base64EncodedString() })
        object.field("body_size", Int64(ping.bodySize))
        object.field("exit_status", ping.exitStatus.map(Int64.init))
        object.field("rid", ping.rid)
        object.field("duration_us", ping.duration)
        return object.object()
    }

    /// Text columns cannot hold U+0000: it becomes U+FFFD (only a hostile client sends it in a
    /// header).
    static func text(_ value: String) -> String {
        value.utf8.contains(0) ? value.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : value
    }

    static func ping(_ row: PostgresRow) throws -> Ping {
        let (n, time, kind, method, scheme, remote, userAgent, body, bodySize, exitStatus, rid, duration) =
            try row.decode((Int64, Int64, String, String, String, String, String, ByteBuffer?, Int32, Int32?, UUID?, Int64?).self)
        return Ping(
            n: Int(n), time: time, kind: Ping.Kind(rawValue: kind) ?? .log, method: method, scheme: scheme, remoteAddress: remote,
            userAgent: userAgent, body: body.map { String(decoding: $0.readableBytesView, as: UTF8.self) }, bodySize: Int(bodySize),
            exitStatus: exitStatus.map(Int.init), rid: rid, duration: duration)
    }

    /// `kiothc_flips`' columns in the order of `flipRecordColumns`.
    static let flipColumns = "check_uuid, n, time_us, old, new, reason, maintenance, suppressed_by"

    static let flipRecordColumns =
        "check_uuid uuid, n bigint, time_us bigint, old text, new text, reason text, maintenance boolean, suppressed_by text[]"

    /// What `flip(_:)` reads.
    static let flipReadColumns = "n, time_us, old, new, reason, maintenance, suppressed_by"

    /// The marks (SPEC §14) are always written: `jsonb_to_recordset` gives a missing field
    /// NULL, which the columns refuse.
    static func record(_ flip: Flip, n: Int64, of check: UUID) -> [UInt8] {
        var object = JSONLineWriter(capacity: 192)
        object.field("check_uuid", check)
        object.field("n", n)
        object.field("time_us", flip.time)
        object.field("old", flip.old.rawValue)
        object.field("new", flip.new.rawValue)
        object.field("reason", flip.reason.rawValue)
        object.field("maintenance", json: Array((flip.maintenance ? "true" : "false").utf8))
        object.field("suppressed_by", strings: flip.suppressedBy.map(text))
        return object.object()
    }

    static func flip(_ row: PostgresRow) throws -> StoredFlip {
        let (n, time, old, new, reason, maintenance, suppressedBy) = try row.decode((Int64, Int64, String, String, String, Bool, [String]).self)
        guard let old = CheckState.Status(rawValue: old), let new = CheckState.Status(rawValue: new), let reason = Flip.Reason(rawValue: reason) else {
            throw StateRow.Unreadable(description: "flip \(n) has a status or reason this kiothc does not know")
        }
        return StoredFlip(n: Int(n), flip: Flip(time: time, old: old, new: new, reason: reason, maintenance: maintenance, suppressedBy: suppressedBy))
    }

    /// An alert row as `jsonb_to_recordset` reads it (the batch's and the import's).
    static let alertRecordColumns = "id uuid, check_uuid uuid, project text, channel text, record text, created_us bigint, held boolean"

    /// `next_attempt_us` of an inserted alert: at once, or never while held (`held` is absent,
    /// NULL, for most).
    static let alertDue = "CASE WHEN held THEN \(PostgresAlertQueue.heldUntil) ELSE created_us END"

    /// `[a,b,c]` of JSON objects.
    static func array(_ objects: [[UInt8]]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        bytes.reserveCapacity(objects.reduce(2) { $0 + $1.count + 1 })
        for (index, object) in objects.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: object)
        }
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
