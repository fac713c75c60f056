import Foundation
import Monitoring
import YAMLParser

/// A `maintenance:` window as written: its zone may still be the default of the project or
/// check that declares it, so `CatalogBuilder` finishes it (`WindowDraft.resolved`).
struct WindowDraft {
    enum Timing {
        case recurring(schedule: Schedule, duration: Int)
        case fixed(from: WallInstant, until: WallInstant, untilMark: Mark)
    }

    var timing: Timing
    /// `tz:`; nil: the declaring check's or project's zone.
    var zone: String?
    var reason: String
    var location: Diagnostic.Location
}

extension WindowDraft {
    /// The window with its zone settled: its own `tz`, else `defaultZone`. nil after reporting
    /// a fixed window whose `until` is not after its `from`.
    func resolved(defaultZone: String, file: String, report: (Diagnostic) -> Void) -> MaintenanceWindow? {
        let zoneName = zone ?? defaultZone
        let origin = "\(location.file):\(location.line):\(location.column)"
        switch timing {
        case .recurring(let schedule, let duration):
            return MaintenanceWindow(.recurring(schedule: schedule, duration: duration, zone: zoneName), origin: origin, reason: reason)
        case .fixed(let from, let until, let untilMark):
            let timeZone = TimeZoneDatabase.zone(named: zoneName) ?? TimeZone(identifier: "UTC") ?? .gmt
            let start = from.seconds(in: timeZone)
            let end = until.seconds(in: timeZone)
            guard end > start else {
                let zoneNote = from.offset == nil || until.offset == nil ? " (wall times read in \(zoneName))" : ""
                report(Diagnostic(
                    .error, .invalidValue,
                    "'until' of the maintenance window is not after its 'from'\(zoneNote): \(UTCTime.secondsZ(end * 1_000_000)) ≤ \(UTCTime.secondsZ(start * 1_000_000))",
                    at: Diagnostic.Location(file: file, untilMark)))
                return nil
            }
            return MaintenanceWindow(.fixed(from: start * 1_000_000, until: end * 1_000_000), origin: origin, reason: reason)
        }
    }
}

/// Reads `maintenance:` lists (SPEC §14) of a project or a check.
extension FileDecoder {
    static let windowKeys = ["schedule", "duration", "tz", "from", "until", "reason"]
    /// A window lasts from one second to 366 days (a yearly window may cover a leap year).
    static let windowDurationRange = 1...31_622_400

    mutating func decodeMaintenance(_ node: Node, owner: String) -> [WindowDraft] {
        guard case .sequence(let items) = node.content else {
            if case .invalid = node.content { return [] }
            reader.report(
                .typeMismatch, "'maintenance' of \(owner) must be a list of windows, not \(reader.describe(node))", at: node.mark,
                notes: [Diagnostic.Note("write each window as a list item: '- {schedule: \"0 3 * * *\", duration: 1h}'")])
            return []
        }
        return items.compactMap { decodeWindow($0, owner: owner) }
    }

    private mutating func decodeWindow(_ node: Node, owner: String) -> WindowDraft? {
        let context = "a maintenance window of \(owner)"
        guard let fields = reader.fields(of: node, in: context, known: Self.windowKeys) else { return nil }
        var failed = false
        var zone: String?
        if let pair = fields["tz"] {
            zone = decodeTimeZone(pair.value)
            failed = failed || zone == nil
        }
        var reason = ""
        if let pair = fields["reason"] {
            if let text = reader.string(pair.value, what: "'reason' of \(context)") { reason = text } else { failed = true }
        }
        let location = reader.location(node.mark)
        let timing: WindowDraft.Timing
        switch (fields["schedule"], fields["from"] ?? fields["until"]) {
        case (let schedule?, let fixed?):
            let first = min(schedule.key.mark, fixed.key.mark)
            let second = max(schedule.key.mark, fixed.key.mark)
            reader.report(
                .conflictingKeys,
                "\(context) has both 'schedule' and '\(reader.keyText(fixed.key))'; a window either recurs ('schedule' and 'duration') or is fixed ('from' and 'until'), keep one",
                at: second, notes: [Diagnostic.Note("the other one is here", at: reader.location(first))])
            return nil
        case (let schedule?, nil):
            let parsed = decodeWindowSchedule(schedule.value)
            guard let durationPair = fields["duration"] else {
                reader.report(
                    .missingKey, "\(context) has a 'schedule' but no 'duration'; say how long each window lasts, e.g. 'duration: 1h'",
                    at: schedule.key.mark)
                return nil
            }
            let duration = reader.duration(durationPair.value, what: "'duration' of \(context)", range: Self.windowDurationRange)
            guard let parsed, let duration, !failed else { return nil }
            timing = .recurring(schedule: parsed, duration: duration)
        case (nil, let fixed?):
            if let duration = fields["duration"] {
                reader.report(
                    .conflictingKeys, "\(context) is fixed ('from' and 'until'), so it takes no 'duration'; 'until' is where it ends",
                    at: duration.key.mark)
                failed = true
            }
            guard let fromPair = fields["from"] else {
                reader.report(.missingKey, "\(context) has 'until' but no 'from'; give both instants", at: fixed.key.mark)
                return nil
            }
            guard let untilPair = fields["until"] else {
                reader.report(.missingKey, "\(context) has 'from' but no 'until'; give both instants", at: fromPair.key.mark)
                return nil
            }
            let from = decodeInstant(fromPair.value, what: "'from' of \(context)")
            let until = decodeInstant(untilPair.value, what: "'until' of \(context)")
            guard let from, let until, !failed else { return nil }
            timing = .fixed(from: from, until: until, untilMark: untilPair.value.mark)
        case (nil, nil):
            if let duration = fields["duration"] {
                reader.report(.missingKey, "\(context) has a 'duration' but no 'schedule'; say when it starts, e.g. 'schedule: \"0 3 * * *\"'", at: duration.key.mark)
            } else {
                reader.report(
                    .missingKey, "\(context) needs 'schedule' and 'duration' (recurring) or 'from' and 'until' (fixed)", at: node.mark,
                    notes: [Diagnostic.Note("e.g. {schedule: \"0 3 * * 0\", duration: 2h} or {from: 2026-12-24T18:00:00Z, until: 2026-12-27T08:00:00Z}")])
            }
            return nil
        }
        return WindowDraft(timing: timing, zone: zone, reason: reason, location: location)
    }

    /// Like a check's `schedule:`, with its messages.
    private mutating func decodeWindowSchedule(_ node: Node) -> Schedule? {
        guard case .schedule(let schedule) = decodeSchedule(node) else { return nil }
        return schedule
    }

    private mutating func decodeInstant(_ node: Node, what: String) -> WallInstant? {
        guard let text = reader.string(node, what: what) else { return nil }
        guard let instant = WallInstant(parsing: text) else {
            reader.report(
                .invalidValue, "\(what) must be an ISO 8601 date and time, not '\(text.prefix(64))'", at: node.mark,
                notes: [Diagnostic.Note("e.g. 2026-12-24T18:00:00Z, 2026-12-24T18:00:00+02:00, or 2026-12-24T18:00 for a wall time in the window's 'tz'")])
            return nil
        }
        return instant
    }
}
