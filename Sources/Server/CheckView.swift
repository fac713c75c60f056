import CheckCatalog
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

    public init(uuid: UUID, definition: CheckDefinition, state: CheckState, now: Int64) {
        self.uuid = uuid
        self.definition = definition
        self.state = state
        (status, started, nextPing) = Self.evaluate(state, definition, now: now)
    }

    public var code: String { uuid.uuidString.lowercased() }

    /// Healthchecks' `unique_key`: SHA-1 of the first 16 hex digits of the UUID. It identifies
    /// the check to read-only clients and in metrics without revealing its ping URL.
    public var uniqueKey: String { Self.uniqueKey(uuid) }

    public static func uniqueKey(_ uuid: UUID) -> String {
        SHA1.hex(String(uuid.uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)))
    }

    /// The one place where a status is computed from state, rules and time.
    ///
    /// INTERIM until issue 5 (status engine) lands on main: it will provide
    /// `CheckState.liveStatus(under:at:)` and `deadlines(under:)`, which add `grace`, a run
    /// outliving its grace, and deadlines from schedules; switch this function to them. Until
    /// then the shown status is the stored one (new/up/down/paused, never `grace`), a config
    /// `paused: true` wins, and the next expected ping is `last_ping + timeout` or the first
    /// scheduled time after the last ping.
    static func evaluate(_ state: CheckState, _ definition: CheckDefinition, now: Int64) -> (Status, Bool, Int64?) {
        if definition.paused || state.status == .paused { return (.paused, false, nil) }
        let status: Status
        switch state.status {
        case .new: status = .new
        case .up: status = .up
        case .down: status = .down
        case .paused: status = .paused
        }
        var next: Int64?
        if status == .up, let last = state.lastPing {
            switch definition.expectation {
            case .timeout(let seconds):
                next = last.addingReportingOverflow(Int64(seconds) * 1_000_000).partialValue
            case .schedule(let schedule):
                let zone = TimeZone(identifier: definition.tz) ?? .gmt
                next = schedule.next(after: Date(timeIntervalSince1970: Double(last) / 1_000_000), in: zone)
                    .map { Int64($0.timeIntervalSince1970.rounded()) * 1_000_000 }
            }
        }
        if let run = state.run, status != .down { next = min(next ?? run.start, run.start) }
        return (status, state.started, next)
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
