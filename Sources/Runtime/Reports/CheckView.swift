import CheckCatalog
import Crypto
import Foundation
import Monitoring

/// One check as people and tools see it at a moment: its definition, its state and the status
/// derived from both. The API, the dashboard, `/metrics` and `kiothc status` all read checks
/// through this, so they never disagree about a status.
public struct CheckView: Sendable {
    /// Healthchecks' statuses, `grace` included (the stored status never is `grace`).
    public enum Status: String, Sendable, CaseIterable {
        case new, up, grace, down, paused
    }

    public let uuid: UUID
    public let definition: CheckDefinition
    public let state: CheckState
    public let status: Status
    /// A run is open (Healthchecks' `started`).
    public let started: Bool
    /// When the next ping is expected (Healthchecks' `next_ping`); nil when none is.
    public let nextPing: Int64?
    /// The maintenance window in progress (SPEC §14); nil outside one.
    public let maintenance: MaintenancePeriod?
    /// While the check is down: the checks it depends on that are down too (`project/key`),
    /// which hold its down alerts back (SPEC §14).
    public let suppressedBy: [String]

    /// - Parameter downDependencies: the check's dependencies that are down now
    ///   (`ServingCatalog.downDependencies(of:in:)`).
    public init(uuid: UUID, definition: CheckDefinition, state: CheckState, now: Int64, downDependencies: [String] = []) {
        self.uuid = uuid
        self.definition = definition
        self.state = state
        (status, started, nextPing) = Self.evaluate(state, definition, now: now)
        maintenance = definition.maintenance.period(at: now)
        suppressedBy = state.status == .down ? downDependencies : []
    }

    /// In a maintenance window now.
    public var inMaintenance: Bool { maintenance != nil }

    public var code: String { uuid.uuidString.lowercased() }

    /// Healthchecks' `unique_key`: SHA-1 of the first 16 hex digits of the UUID. It identifies
    /// the check to read-only clients and in metrics without revealing its ping URL.
    public var uniqueKey: String { Self.uniqueKey(uuid) }

    public static func uniqueKey(_ uuid: UUID) -> String {
        // The first 16 hex digits of the lower-case UUID are its first 8 bytes' (written here
        // directly: `/metrics` asks for every check's key at each scrape, and Foundation's
        // string replacing took a third of its time).
        var digits = [UInt8]()
        digits.reserveCapacity(16)
        withUnsafeBytes(of: uuid.uuid) { bytes in
            for byte in bytes.prefix(8) {
                digits.append(hexDigits[Int(byte >> 4)])
                digits.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        var text = [UInt8]()
        text.reserveCapacity(40)
        for byte in Insecure.SHA1.hash(data: digits) {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The one place where a status is computed from state, rules and time: the domain's
    /// `liveStatus(under:at:)` (SPEC §3, as Healthchecks' `get_status`) and, for `next_ping`,
    /// the start of grace from `deadlines(under:)` (Healthchecks' `get_grace_start`).
    static func evaluate(_ state: CheckState, _ definition: CheckDefinition, now: Int64) -> (Status, Bool, Int64?) {
        let rules = CheckRules(definition)
        let (status, started) = liveStatus(of: state, under: rules, now: now)
        return (status, started, state.deadlines(under: rules)?.late)
    }

    /// The status and `started` alone, as a view has them: for reading every check at once
    /// (`/metrics`), without `next_ping`'s schedule lookup.
    public static func liveStatus(of state: CheckState, _ definition: CheckDefinition, now: Int64) -> (status: Status, started: Bool) {
        liveStatus(of: state, under: CheckRules(definition), now: now)
    }

    private static func liveStatus(of state: CheckState, under rules: CheckRules, now: Int64) -> (Status, Bool) {
        let live = state.liveStatus(under: rules, at: now)
        return (Status(rawValue: live.status.rawValue) ?? .new, live.started)
    }

    /// `timeout` in seconds for a simple check, nil for a scheduled one.
    public var timeout: Int? {
        if case .timeout(let seconds) = definition.expectation { return seconds }
        return nil
    }

    public var schedule: String? {
        if case .schedule(let schedule) = definition.expectation { return schedule.expression }
        return nil
    }
}
