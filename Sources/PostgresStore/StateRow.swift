import Foundation
import Monitoring
import PingStore
import PostgresNIO

/// A row of `kiothc_checks` as the store reads and writes it: the check's state (the columns
/// Healthchecks keeps on its `Check`), its counters and version, and whether it is retired.
struct StateRow: Sendable {
    var check: UUID
    var state: CheckState
    var flips: Int64
    var version: Int64
    var retired: Bool

    /// The columns `init(row:)` reads, in order.
    static let columns =
        "uuid, status, n_pings, n_flips, last_ping_us, last_received_us, last_received_kind, run_start_us, run_rid, last_duration_us, recent_starts, version, retired_us"

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    init(row: PostgresRow) throws {
        let (uuid, status, nPings, nFlips, lastPing, lastReceived, lastKind, runStart, runRid, lastDuration, starts, version, retired) =
            try row.decode((UUID, String, Int64, Int64, Int64?, Int64?, String?, Int64?, UUID?, Int64?, String, Int64, Int64?).self)
        guard let status = CheckState.Status(rawValue: status) else {
            throw Unreadable(description: "check \(uuid.lowercasedText) has status '\(status)', which this kiothc does not know")
        }
        check = uuid
        state = CheckState(
            status: status, nPings: Int(nPings), lastPing: lastPing, lastReceived: lastReceived,
            lastReceivedKind: lastKind.flatMap(Ping.Kind.init(rawValue:)), run: runStart.map { CheckState.OpenRun(start: $0, rid: runRid) },
            lastDuration: lastDuration, recentStarts: Self.starts(starts))
        flips = nFlips
        self.version = version
        self.retired = retired != nil
    }

    /// The row's new values as one JSON object of `jsonb_to_recordset` (the batch's update),
    /// written only where the stored version is still `expected`.
    func record(expected: Int64) -> [UInt8] {
        var object = JSONLineWriter()
        object.field("uuid", check)
        object.field("status", state.status.rawValue)
        object.field("n_pings", Int64(state.nPings))
        object.field("n_flips", flips)
        object.field("last_ping_us", state.lastPing)
        object.field("last_received_us", state.lastReceived)
        object.field("last_received_kind", state.lastReceivedKind?.rawValue)
        object.field("run_start_us", state.run?.start)
        object.field("run_rid", state.run?.rid)
        object.field("last_duration_us", state.lastDuration)
        object.field("recent_starts", Self.startsText(state.recentStarts))
        object.field("version", version)
        object.field("expected", expected)
        return object.object()
    }

    /// The recordset's column list for `record()`.
    static let recordColumns =
        "uuid uuid, status text, n_pings bigint, n_flips bigint, last_ping_us bigint, last_received_us bigint, last_received_kind text, run_start_us bigint, run_rid uuid, last_duration_us bigint, recent_starts text, version bigint"

    /// `[[start_us, "rid" or null], …]`, oldest first.
    static func startsText(_ starts: [CheckState.OpenRun]) -> String {
        "[" + starts.map { "[\($0.start),\($0.rid.map { "\"\($0.lowercasedText)\"" } ?? "null")]" }.joined(separator: ",") + "]"
    }

    static func starts(_ text: String) -> [CheckState.OpenRun] {
        guard let array = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[Any]] else { return [] }
        return array.compactMap { pair in
            guard let start = (pair.first as? NSNumber)?.int64Value else { return nil }
            return CheckState.OpenRun(start: start, rid: (pair.count > 1 ? pair[1] as? String : nil).flatMap(UUID.init(uuidString:)))
        }
    }
}
