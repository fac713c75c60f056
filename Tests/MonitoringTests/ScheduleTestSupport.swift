import Foundation
import Testing

@testable import Monitoring

/// A row of the expected-values tables: the first `next` times after `after` in `tz`.
/// The expected values were computed by the Python reference libraries themselves
/// (cronsim 2.8, oncalendar 1.1, tz data 2025b), as Healthchecks calls them.
struct ScheduleCase: CustomTestStringConvertible, Sendable {
    let expression: String
    let tz: String
    let after: String
    let next: [String]
    let note: String

    init(_ expression: String, _ tz: String, _ after: String, _ next: [String], _ note: String) {
        self.expression = expression
        self.tz = tz
        self.after = after
        self.next = next
        self.note = note
    }

    var testDescription: String { "\(note): \(expression.debugDescription) in \(tz) after \(after)" }

    /// The first three times (the tables were generated with three; fewer means the reference
    /// stopped, and so must we).
    func actual() throws -> [String] {
        let schedule = try Schedule(parsing: expression)
        let zone = try #require(TimeZoneDatabase.zone(named: tz))
        let start = try #require(ScheduleCase.instant(after))
        return schedule.times(after: start, in: zone).prefix(3).map(ScheduleCase.iso)
    }

    static func instant(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle().parse(text)
    }

    static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC") ?? .gmt))
    }
}

/// A row of the error tables: an expression and the exact message.
struct ScheduleErrorCase: CustomTestStringConvertible, Sendable {
    let expression: String
    let message: String

    init(_ expression: String, _ message: String) {
        self.expression = expression
        self.message = message
    }

    var testDescription: String { expression.debugDescription }
}
