import CheckCatalog
import Foundation
import Monitoring
import PingStore
import Testing

@testable import Runtime

@Suite("Maintenance in kiothc plan")
struct MaintenancePlanTests {
    static func at(_ text: String) throws -> Int64 {
        let date = try #require(try? Date.ISO8601FormatStyle().parse(text))
        return Int64(date.timeIntervalSince1970) * 1_000_000
    }

    /// Loads `files` from a temporary config directory.
    static func catalog(_ files: [String: String]) throws -> (Catalog, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-maint-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (name, text) in files {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path).appendingPathComponent(name))
        }
        let result = try ConfigLoader.load(directory: path)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.message))")
        return (result.catalog, path)
    }

    static let config = [
        "a.yaml": """
            projects:
              ops:
                maintenance:
                  - {schedule: "0 3 * * 0", duration: 2h, reason: weekly patching}
            checks:
              backup:
                project: ops
                maintenance:
                  - {from: 2026-06-03T10:00:00Z, until: 2026-06-03T12:00:00Z, reason: move to new disk}
                  - {from: 2026-07-01T00:00:00Z, until: 2026-07-02T00:00:00Z}
              report: {project: ops}
              noisy:
                maintenance: [{schedule: "* * * * *", duration: 30s}]
              plain:
            """
    ]

    @Test("each window's periods of the next 7 days, with what it applies to, its reason and origin, in start order")
    func listing() throws {
        let (catalog, path) = try Self.catalog(Self.config)
        let now = try Self.at("2026-06-01T00:00:00Z")  // a Monday
        let plan = MaintenancePlan(catalog, now: now)
        #expect(plan.declared)
        let rows = plan.entries.map { "\($0.project)/\($0.check ?? "*") \(UTCTime.secondsZ($0.start))..\(UTCTime.secondsZ($0.end)) \($0.reason) \($0.origin)" }
        // The every-minute window of 30 s: one period a minute, 10,080 a week; 20 listed.
        #expect(rows.count == 2 + MaintenancePlan.periodsPerWindow)
        #expect(plan.omitted == 10_080 - MaintenancePlan.periodsPerWindow)
        let noisy = rows.filter { $0.hasPrefix("default/noisy") }
        #expect(noisy.first == "default/noisy 2026-06-01T00:00:00Z..2026-06-01T00:00:30Z  \(path)/a.yaml:13:19")
        #expect(rows.filter { !$0.hasPrefix("default/noisy") } == [
            "ops/backup 2026-06-03T10:00:00Z..2026-06-03T12:00:00Z move to new disk \(path)/a.yaml:9:9",
            "ops/* 2026-06-07T03:00:00Z..2026-06-07T05:00:00Z weekly patching \(path)/a.yaml:4:9",
        ])
        let text = plan.text()
        #expect(text.hasPrefix("Maintenance windows in the next 7 days (2026-06-01 00:00:00Z to 2026-06-08 00:00:00Z):\n"))
        #expect(text.contains("  2026-06-03 10:00:00Z → 2026-06-03 12:00:00Z  ops/backup  \"move to new disk\"  \(path)/a.yaml:9:9\n"))
        #expect(text.contains("  2026-06-07 03:00:00Z → 2026-06-07 05:00:00Z  ops (all checks)  \"weekly patching\"  \(path)/a.yaml:4:9\n"))
        #expect(text.hasSuffix("  … and 10060 more periods, not listed (at most 20 per window)\n"))
    }

    @Test("a window's own overlapping occurrences are one period; a window in progress is listed from its start")
    func merging() throws {
        let (catalog, _) = try Self.catalog(["a.yaml": """
            checks:
              a:
                maintenance: [{schedule: "*/5 * * * *", duration: 10m}]
              b:
                maintenance: [{from: 2026-05-31T12:00:00Z, until: 2026-06-20T00:00:00Z}]
            """])
        let now = try Self.at("2026-06-01T00:00:00Z")
        let plan = MaintenancePlan(catalog, now: now)
        #expect(plan.omitted == 0)
        #expect(plan.entries.map(\.check) == ["a", "b"].map { Optional($0) } || plan.entries.map(\.check) == ["b", "a"].map { Optional($0) })
        let a = try #require(plan.entries.first { $0.check == "a" })
        #expect(a.start == now - 300 * 1_000_000 && a.end >= now + MaintenancePlan.span)
        let b = try #require(plan.entries.first { $0.check == "b" })
        #expect(b.start == (try Self.at("2026-05-31T12:00:00Z")))
    }

    @Test("an every-second window over a week is read past the per-query occurrence limit and merged")
    func paging() throws {
        let window = MaintenanceWindow(.recurring(schedule: try Schedule(parsing: "*-*-* *:*:*"), duration: 1, zone: "UTC"))
        let now = try Self.at("2026-06-01T00:00:00Z")
        let periods = MaintenancePlan.periods(of: window, from: now, to: now + MaintenancePlan.span)
        #expect(periods == [MaintenancePeriod(start: now, end: now + MaintenancePlan.span)])
        // Every other second: 302,400 separate periods, all found.
        let gappy = MaintenanceWindow(.recurring(schedule: try Schedule(parsing: "*-*-* *:*:00/2"), duration: 1, zone: "UTC"))
        #expect(MaintenancePlan.periods(of: gappy, from: now, to: now + MaintenancePlan.span).count == 302_400)
    }

    @Test("no windows: no text at all, and an empty JSON list beside the change report's keys")
    func none() throws {
        let (catalog, _) = try Self.catalog(["a.yaml": "checks:\n  a:\n"])
        let plan = MaintenancePlan(catalog, now: 0)
        #expect(!plan.declared && plan.entries.isEmpty && plan.text() == "")
        let change = CatalogChange.between(previous: nil, registry: .init(), catalog: catalog)
        let document = PlanDocument(change: CatalogChangeReport(change, urls: PingURLFormat(base: nil)).document, maintenance: plan)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(document.json().utf8)) as? [String: Any])
        #expect(Set(json.keys) == [
            "changes", "summary", "created", "deleted", "renamed", "changed", "new_conflicts", "new_uuids", "maintenance", "maintenance_omitted",
        ])
        #expect((json["maintenance"] as? [Any])?.isEmpty == true)
        #expect(json["maintenance_omitted"] as? Int == 0)
    }

    @Test("JSON entries: project, check (null for a project's window), start and end in UTC, reason, origin")
    func json() throws {
        let (catalog, path) = try Self.catalog(Self.config)
        let plan = MaintenancePlan(catalog, now: try Self.at("2026-06-01T00:00:00Z"))
        let change = CatalogChange.between(previous: nil, registry: .init(), catalog: catalog)
        let document = PlanDocument(change: CatalogChangeReport(change, urls: PingURLFormat(base: nil)).document, maintenance: plan)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(document.json().utf8)) as? [String: Any])
        let entries = try #require(json["maintenance"] as? [[String: Any]])
        #expect(entries.count == 22)
        #expect(json["maintenance_omitted"] as? Int == 10_060)
        let project = try #require(entries.first { $0["reason"] as? String == "weekly patching" })
        #expect(project["project"] as? String == "ops")
        #expect(project["check"] is NSNull)
        #expect(project["start"] as? String == "2026-06-07T03:00:00Z")
        #expect(project["end"] as? String == "2026-06-07T05:00:00Z")
        #expect(project["origin"] as? String == "\(path)/a.yaml:4:9")
        #expect(Set(project.keys) == ["project", "check", "start", "end", "reason", "origin"])
        let backup = try #require(entries.first { $0["check"] as? String == "backup" })
        #expect(backup["reason"] as? String == "move to new disk")
        #expect(json["changes"] as? Bool == true)
    }
}
