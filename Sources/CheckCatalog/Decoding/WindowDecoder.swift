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

/// An ISO 8601 instant as written: with an offset it is absolute; without one it is a wall
/// time in the window's zone.
struct WallInstant: Equatable {
    /// Seconds since 1970-01-01T00:00:00 of the wall clock (the civil date and time read as UTC).
    var wall: Int64
    /// Seconds east of UTC, when written (`Z` is 0).
    var offset: Int?

    /// `2026-12-24T18:00:00Z`, `2026-12-24T18:00:00+02:00`, `2026-12-24T18:00:00`, `2026-12-24T18:00`
    /// (seconds optional; `T` or one space between date and time). nil: not that syntax.
    init?(parsing text: String) {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<start + count] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        func byte(_ index: Int) -> UInt8? { index < bytes.count ? bytes[index] : nil }
        guard let year = number(0, 4), byte(4) == UInt8(ascii: "-"), let month = number(5, 2), byte(7) == UInt8(ascii: "-"),
            let day = number(8, 2), byte(10) == UInt8(ascii: "T") || byte(10) == UInt8(ascii: " "),
            let hour = number(11, 2), byte(13) == UInt8(ascii: ":"), let minute = number(14, 2)
        else { return nil }
        var index = 16
        var second = 0
        if byte(index) == UInt8(ascii: ":") {
            guard let value = number(index + 1, 2) else { return nil }
            second = value
            index += 3
        }
        switch byte(index) {
        case nil:
            offset = nil
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
            offset = 0
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = byte(index) == UInt8(ascii: "+") ? 1 : -1
            guard let hours = number(index + 1, 2), byte(index + 3) == UInt8(ascii: ":"), let minutes = number(index + 4, 2),
                index + 6 == bytes.count, hours <= 18, minutes <= 59
            else { return nil }
            offset = sign * (hours * 3_600 + minutes * 60)
        default:
            return nil
        }
        guard (1...12).contains(month), (1...CivilCalendar.days(inMonth: month, year: year)).contains(day), hour <= 23, minute <= 59,
            second <= 59
        else { return nil }
        wall = (CivilCalendar.daysSinceEpoch(year: year, month: month, day: day) * 86_400) + Int64(hour * 3_600 + minute * 60 + second)
    }

    /// Seconds since the epoch: the written offset, else the wall time in `zone`. A wall time
    /// the clock shows twice (DST ends) is its first occurrence; one it skips (DST starts) is
    /// read with the offset before the change, so 02:30 of a skipped hour is 03:30 after it.
    func seconds(in zone: TimeZone) -> Int64 {
        if let offset { return wall - Int64(offset) }
        let before = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(wall - 86_400)))
        let after = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(wall + 86_400)))
        for candidate in [before, after] {
            let utc = wall - Int64(candidate)
            if zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(utc))) == candidate { return utc }
        }
        return wall - Int64(before)
    }
}

/// Days of the proleptic Gregorian calendar, without Foundation's calendar (no locale, no zone).
enum CivilCalendar {
    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 (Howard Hinnant's `days_from_civil`).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
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

    /// `depends_on:` of a check: `key` (its own project) or `project/key`, each with its place.
    mutating func decodeDependencies(_ node: Node, check key: String) -> [Dependency]? {
        guard let items = reader.stringList(node, what: "'depends_on' of check '\(key)'", splittingString: false) else { return nil }
        var dependencies: [Dependency] = []
        for (text, mark) in items {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard (1...2).contains(parts.count), !parts.contains(where: \.isEmpty) else {
                reader.report(
                    .invalidValue, "'depends_on' entry '\(text.prefix(64))' of check '\(key)' must be a check key or 'project/key'", at: mark)
                continue
            }
            dependencies.append(Dependency(
                project: parts.count == 2 ? parts[0] : nil, key: parts[parts.count - 1], text: text, location: reader.location(mark)))
        }
        return dependencies
    }
}

/// One `depends_on:` entry as written.
struct Dependency {
    /// nil: the project of the check that declares it.
    var project: String?
    var key: String
    var text: String
    var location: Diagnostic.Location
}
