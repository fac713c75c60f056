import ArgumentParser
import Foundation
import Monitoring

struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Print the next times of a cron or OnCalendar schedule.",
        discussion: """
            Evaluates EXPR exactly as Healthchecks does (cron as the cronsim library, OnCalendar \
            as the oncalendar library), in the time zone --tz, DST-correct. EXPR is cron if it \
            is one line of 5 fields, else systemd OnCalendar; several lines are several \
            OnCalendar schedules (the earliest time wins), each may end with its own time zone.

            Text output: one time per line, in --tz and in UTC, e.g.
              2026-03-29T03:00:00+03:00  (2026-03-29T00:00:00Z)
            JSON output: {"after", "expression", "kind": "cron"|"oncalendar", "next": ["<UTC>", ...], "tz"}

            Exit status: 0 success; 1 invalid expression or unknown time zone; 64 usage error.

            Examples:
              kiothc schedule "0 3 * * *" --tz Europe/Riga
              kiothc schedule "*/15 9-17 * * MON-FRI" --count 10
              kiothc schedule "0 0 L * *" --after 2026-02-01T00:00:00Z --format json
              kiothc schedule "Mon..Fri *-*-* 09:00 America/New_York" --tz Europe/London
              kiothc schedule $'daily\\n12:00 Asia/Tokyo'
            """
    )

    @Argument(help: ArgumentHelp("The schedule: 5 cron fields, or OnCalendar line(s).", valueName: "expr"))
    var expression: String?

    @Option(name: .long, help: ArgumentHelp("IANA time zone the schedule runs in, e.g. Europe/Riga.", valueName: "tz"))
    var tz: String = "UTC"

    @Option(name: .long, help: ArgumentHelp(
        "List times strictly after this ISO 8601 date-time with a zone, e.g. 2026-03-29T00:00:00Z or 2026-03-29T03:00:00+03:00 (default: now).",
        valueName: "iso8601"))
    var after: String?

    @Option(name: .long, help: "How many times to print, 1…1000.")
    var count: Int = 5

    @Option(name: .long, help: "Output format: text or json.")
    var format: ScheduleFormat = .text

    /// Contributors' batch mode for the differential tests (docs/schedules.md): JSON lines in,
    /// JSON lines out, no other output.
    @Option(name: .long, help: ArgumentHelp(visibility: .private))
    var batch: String?

    func validate() throws {
        if batch != nil { return }
        guard expression != nil else {
            throw ValidationError("give a schedule, e.g. kiothc schedule \"0 3 * * *\"")
        }
        guard (1...1000).contains(count) else {
            throw ValidationError("--count must be 1…1000, got \(count)")
        }
        if let after, ScheduleCommand.parseInstant(after) == nil {
            throw ValidationError("--after \"\(after)\" is not an ISO 8601 date-time with a zone, e.g. 2026-03-29T00:00:00Z")
        }
    }

    func run() throws {
        if let batch {
            try ScheduleBatch.run(path: batch)
            return
        }
        guard let expression else { throw ExitCode.validationFailure }
        guard let zone = TimeZoneDatabase.zone(named: tz) else {
            var message = "unknown time zone \"\(tz)\""
            if let suggestion = TimeZoneDatabase.suggestion(for: tz) { message += " (did you mean \"\(suggestion)\"?)" }
            Terminal.error(message)
            throw ExitCode.failure
        }
        let schedule: Schedule
        do {
            schedule = try Schedule(parsing: expression)
        } catch {
            Terminal.error(error.message)
            throw ExitCode.failure
        }
        // Wall time is read here, once, at the edge.
        let start = after.flatMap(ScheduleCommand.parseInstant) ?? Date()
        let times = Array(schedule.times(after: start, in: zone).prefix(count))

        // Whole seconds: what lies below is not shown (as the ISO 8601 format style did).
        let utc = { (date: Date) in UTCTime.secondsZ(Int64(date.timeIntervalSince1970.rounded(.down)) * 1_000_000) }
        switch format {
        case .text:
            let local = Date.ISO8601FormatStyle(timeZoneSeparator: .colon, timeZone: zone)
            var text = ""
            for time in times {
                text += "\(time.formatted(local))  (\(utc(time)))\n"
            }
            Terminal.write(text)
            if times.isEmpty {
                FileHandle.standardError.write(Data("kiothc: no scheduled time after \(utc(start))\n".utf8))
            }
        case .json:
            struct Output: Encodable {
                let expression: String
                let kind: String
                let tz: String
                let after: String
                let next: [String]
            }
            let output = Output(
                expression: expression, kind: schedule.kind.rawValue, tz: tz,
                after: utc(start), next: times.map(utc))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            Terminal.write(String(decoding: try encoder.encode(output), as: UTF8.self) + "\n")
        }
    }

    /// ISO 8601 with `Z` or a numeric offset, optional fractional seconds.
    static func parseInstant(_ text: String) -> Date? {
        let plain = Date.ISO8601FormatStyle()
        if let date = try? plain.parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}

enum ScheduleFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}


/// Hidden `kiothc schedule --batch FILE` for the differential tests (scripts/differential):
/// each input line `{"expr": S, "tz": S, "after": seconds since 1970, "count": N}` gives one
/// output line `{"kind": "cron"|"oncalendar", "next": [seconds, ...]}` or `{"error": S}`.
/// FILE "-" is standard input.
enum ScheduleBatch {
    struct Request: Decodable {
        let expr: String
        let tz: String
        let after: Double
        let count: Int
    }

    struct Response: Encodable {
        var kind: String?
        var next: [Int64]?
        var error: String?
    }

    static func run(path: String) throws {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                Terminal.error("cannot read \(path)")
                throw ExitCode.failure
            }
            data = contents
        }
        let decoder = JSONDecoder()
        let encoder = JSONEncoder()
        var parsed = [String: Result<Schedule, ScheduleError>]()
        var output = Data()
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            var response = Response()
            do {
                let request = try decoder.decode(Request.self, from: line)
                let result = parsed[request.expr] ?? Result { () throws(ScheduleError) in try Schedule(parsing: request.expr) }
                parsed[request.expr] = result
                switch result {
                case .failure(let error):
                    response.error = error.message
                case .success(let schedule):
                    if let zone = TimeZoneDatabase.zone(named: request.tz) {
                        response.kind = schedule.kind.rawValue
                        let start = Date(timeIntervalSince1970: request.after)
                        response.next = schedule.times(after: start, in: zone).prefix(request.count)
                            .map { Int64($0.timeIntervalSince1970) }
                    } else {
                        response.error = "unknown time zone \"\(request.tz)\""
                    }
                }
            } catch {
                response.error = "bad request line: \(error)"
            }
            output.append(try encoder.encode(response))
            output.append(UInt8(ascii: "\n"))
        }
        FileHandle.standardOutput.write(output)
    }
}
