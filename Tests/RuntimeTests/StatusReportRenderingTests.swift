import CheckCatalog
import Foundation
import Monitoring
import Testing

@testable import Runtime

/// `kiothc status`'s table and JSON, byte for byte: the renderers write fleets of 100,000 checks
/// into one buffer (issue 25), and must write exactly what the plain string code below (what
/// they replaced) writes, whatever the names hold: control characters, quotes, emoji, combining
/// marks, U+2028, East Asian text.
@Suite("kiothc status rendering")
struct StatusReportRenderingTests {
    static let now: Int64 = 1_733_500_000_000_000

    static func uuid(_ last: UInt8) -> UUID {
        UUID(uuid: (0x0b, 0x0e, 0x4a, 0x5e, 0x3f, 0x2c, 0x4c, 0x8e, 0x9a, 0x21, 0x5d, 0x1f, 0x6e, 0x7a, 0x8b, last))
    }

    static func definition(
        _ project: String, _ key: String, name: String, slug: String? = nil, tags: [String] = [],
        expectation: CheckDefinition.Expectation = .timeout(seconds: 3_600), maintenance: MaintenanceCalendar = MaintenanceCalendar([])
    ) -> CheckDefinition {
        CheckDefinition(
            id: CheckIdentity(project: project, key: key), name: name, expectation: expectation, grace: 600, tz: "UTC", tags: tags,
            desc: "", methods: .any, manualResume: false, paused: false, channels: .all,
            location: Diagnostic.Location(file: "checks.yaml", line: 1, column: 1), slug: slug, maintenance: maintenance)
    }

    static func row(_ definition: CheckDefinition, uuid: UUID?, state: CheckState, down: [String] = [], base: String? = "https://hc.example.com")
        -> StatusReport.Row
    {
        let urls = PingURLFormat(base: base)
        let view = CheckView(
            uuid: uuid ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), definition: definition, state: state, now: now,
            downDependencies: down)
        return StatusReport.Row(
            view: view, uuid: uuid, pingURL: uuid.map { urls.uuidURL(PingURLFormat.name($0)) },
            slugURL: urls.slugURL(project: definition.id.project, slug: definition.slug))
    }

    /// A report with one check of each kind the renderers treat differently.
    static func report() throws -> StatusReport {
        let minute: Int64 = 60_000_000
        let daily = try Schedule(parsing: "0 6 * * *")
        let window = MaintenanceWindow(.fixed(from: now - 10 * minute, until: now + 50 * minute), origin: "checks.yaml:3:5", reason: "upgrade")
        return StatusReport(rows: [
            row(definition("ops", "backup", name: "Backup", tags: ["prod", "db"]), uuid: uuid(1),
                state: CheckState(status: .up, nPings: 7, lastPing: now - 5 * minute, lastReceived: now - minute, lastReceivedKind: .start,
                                  run: CheckState.OpenRun(start: now - minute, rid: nil))),
            row(definition("ops", "report", name: "Nightly \"report\" \\ tab\there", tags: ["a\"b"], expectation: .schedule(daily)), uuid: uuid(2),
                state: CheckState(status: .down, nPings: 3, lastPing: now - 2 * 86_400_000_000), down: ["ops/backup", "ops/db"]),
            row(definition("ops", "unicode", name: "Sauvegarde é ☃ 😀 e\u{301}x 数据库 \u{2028}sep\u{7F}"), uuid: uuid(3),
                state: CheckState(status: .up, nPings: 1, lastPing: now - 30_000_000)),
            row(definition("web", "new", name: "Later", slug: ""), uuid: nil, state: .new),
            row(definition("web", "held", name: "Held", maintenance: MaintenanceCalendar([window])), uuid: uuid(4),
                state: CheckState(status: .down, nPings: 2, lastPing: now - 3 * 3_600_000_000), down: ["web/new"], base: nil),
            row(definition("web", "paused", name: "Paused"), uuid: uuid(5), state: CheckState(status: .paused, nPings: 9, lastPing: now + 90_000_000)),
        ])
    }

    @Test("the table, byte for byte as the cell-by-cell rendering")
    func table() throws {
        let report = try Self.report()
        let text = report.table(now: Self.now)
        #expect(text == Reference.table(report, now: Self.now))
        #expect(text.hasPrefix("PROJECT  KEY      NAME"))
        #expect(text.contains("Nightly \"report\" \\ tab?here  "), "control characters shown as '?'")
        #expect(text.contains("(not loaded by a server yet)"))
        #expect(report.tableBytes(now: Self.now) == Array(text.utf8))
    }

    @Test("the JSON, byte for byte as the JSONValue tree")
    func json() throws {
        let report = try Self.report()
        let text = report.json()
        #expect(text == Reference.json(report))
        #expect(report.jsonBytes() == Array(text.utf8))
        for chunk in [1, 2, 4, 100] { #expect(report.jsonBytes(chunk: chunk) == Array(text.utf8), "\(chunk) checks at a time") }
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let checks = try #require(document["checks"] as? [[String: Any]])
        #expect(checks.map { $0["name"] as? String } == [
            "Backup", "Nightly \"report\" \\ tab\there", "Sauvegarde é ☃ 😀 e\u{301}x 数据库 \u{2028}sep\u{7F}", "Later", "Held", "Paused",
        ])
        #expect(checks[1]["suppressed_by"] as? [String] == ["ops/backup", "ops/db"])
        #expect(checks[3]["uuid"] is NSNull)
    }

    @Test("a fleet's report, made on several threads, is the same bytes too")
    func fleet() throws {
        let report = StatusReport(rows: Array(repeating: try Self.report().rows, count: 150).flatMap { $0 })
        #expect(report.rows.count == 900)
        #expect(report.table(now: Self.now) == Reference.table(report, now: Self.now))
        let json = Reference.json(report)
        #expect(report.json() == json)
        #expect(report.jsonBytes(chunk: 7) == Array(json.utf8))
    }

    @Test("no checks: the header alone, an empty list")
    func empty() {
        #expect(StatusReport(rows: []).table(now: Self.now) == "PROJECT  KEY  NAME  SLUG  STATUS  LAST PING  NEXT PING  PING URL\n")
        #expect(StatusReport(rows: []).json() == "{\n  \"checks\": []\n}\n")
        #expect(StatusReport(rows: []).json() == Reference.json(StatusReport(rows: [])))
    }

    @Test("table cells: columns as wide as their widest cell, whatever its characters")
    func cells() {
        let rows = [["a", "bb", "c"], ["é́", "😀x", "last\u{1B}[2J"], ["\r\n", "数据", ""], ["", "", ""]]
        #expect(TextTable.render(rows) == Reference.render(rows))
        #expect(TextTable.render([]) == Reference.render([]))
        #expect(TextTable.render([["only"]]) == "only\n")
    }

    /// What the renderers wrote before they wrote bytes: strings of strings, and a JSONValue tree.
    enum Reference {
        static func json(_ report: StatusReport) -> String {
            let checks = report.rows.map { row -> JSONValue in
                let view = row.view
                return .object([
                    ("project", .string(view.definition.id.project)),
                    ("key", .string(view.definition.id.key)),
                    ("name", .string(view.definition.name)),
                    ("slug", .string(view.definition.slug)),
                    ("uuid", .string(row.uuid.map(PingURLFormat.name))),
                    ("status", .string(view.status.rawValue)),
                    ("started", .bool(view.started)),
                    ("last_ping", .string(view.state.lastPing.map(UTCTime.seconds))),
                    ("next_ping", .string(view.nextPing.map(UTCTime.seconds))),
                    ("n_pings", .int(view.state.nPings)),
                    ("tags", .array(view.definition.tags.map { .string($0) })),
                    ("ping_url", .string(row.pingURL)),
                    ("slug_url", .string(row.slugURL)),
                    ("in_maintenance", .bool(view.inMaintenance)),
                    ("maintenance_until", .string(view.maintenance.map { UTCTime.seconds($0.end) })),
                    ("suppressed_by", .array(view.suppressedBy.map { .string($0) })),
                ])
            }
            return JSONValue.object([("checks", .array(checks))]).rendered(pretty: true) + "\n"
        }

        static func table(_ report: StatusReport, now: Int64) -> String {
            var lines = [["PROJECT", "KEY", "NAME", "SLUG", "STATUS", "LAST PING", "NEXT PING", "PING URL"]]
            for row in report.rows {
                let view = row.view
                lines.append([
                    view.definition.id.project, view.definition.id.key, view.definition.name, view.definition.slug.isEmpty ? "-" : view.definition.slug,
                    view.status.rawValue + (view.started ? " (started)" : "") + StatusReport.holds(view, now: now),
                    view.state.lastPing.map { "\(UTCTime.readable($0)) (\(TimeText.relative($0, now: now)))" } ?? "never",
                    view.nextPing.map { "\(UTCTime.readable($0)) (\(TimeText.relative($0, now: now)))" } ?? "-",
                    row.pingURL ?? "(not loaded by a server yet)",
                ])
            }
            return render(lines)
        }

        static func render(_ rows: [[String]]) -> String {
            let clean = rows.map { $0.map(sanitize) }
            var widths: [Int] = []
            for row in clean {
                for (index, cell) in row.enumerated() {
                    if index >= widths.count { widths.append(0) }
                    widths[index] = max(widths[index], cell.count)
                }
            }
            return clean.map { row in
                row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                }.joined(separator: "  ")
            }.joined(separator: "\n") + "\n"
        }

        static func sanitize(_ text: String) -> String {
            String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
        }
    }
}
