import Foundation
import Monitoring
import Testing
@testable import CheckCatalog

/// Each diagnostic as `file:line:col severity code: message`, the file relative to the config.
private func lines(_ result: LoadResult, _ config: TempConfig) -> [String] {
    result.diagnostics.map { diagnostic in
        let file = String(diagnostic.location.file.dropFirst(config.path.count + 1))
        return "\(file):\(diagnostic.location.line):\(diagnostic.location.column) \(diagnostic.severity.rawValue) \(diagnostic.code.rawValue): \(diagnostic.message)"
    }
}

private func seconds(_ text: String) throws -> Int64 {
    let date = try #require(try? Date.ISO8601FormatStyle().parse(text))
    return Int64(date.timeIntervalSince1970) * 1_000_000
}

@Suite("Maintenance windows in the configuration")
struct MaintenanceConfigTests {
    static let projects = """
        projects:
          ops:
            defaults: {tz: Europe/Riga}
            maintenance:
              - schedule: "0 3 * * 0"
                duration: 2h
                reason: weekly patching
              - {from: 2026-12-24T18:00, until: 2026-12-27T08:00:00+02:00}
          dev:
            maintenance:
              - {schedule: "Sat *-*-* 22:00", duration: 30m, tz: America/New_York}

        """

    @Test("a project's windows apply to each of its checks, a check's add to them; zones default to the check's, then the project's, then UTC")
    func effectiveWindows() throws {
        let config = try TempConfig([
            "projects.yaml": Self.projects,
            "checks.yaml": """
                checks:
                  backup:
                    project: ops
                    tz: Asia/Tokyo
                    maintenance:
                      - {schedule: "30 1 * * *", duration: 90m}
                      - {from: 2027-01-01T00:00, until: 2027-01-01T06:00}
                  report: {project: ops}
                  build: {project: dev}
                  lonely:
                    maintenance: [{schedule: "0 0 * * *", duration: 1m}]
                """,
        ])
        let result = try config.load()
        #expect(result.diagnostics.isEmpty, "\(lines(result, config))")
        let catalog = result.catalog
        let ops = try #require(catalog.project("ops"))
        let projectFile = config.path + "/projects.yaml"
        #expect(ops.maintenance.map(\.origin) == ["\(projectFile):5:9", "\(projectFile):8:9"])
        #expect(ops.maintenance.map(\.reason) == ["weekly patching", ""])
        #expect(ops.maintenance[0].timing == .recurring(schedule: try Schedule(parsing: "0 3 * * 0"), duration: 7_200, zone: "Europe/Riga"))
        // A wall time without an offset is read in the project's zone (Riga, UTC+2 in December).
        #expect(ops.maintenance[1].timing == .fixed(from: try seconds("2026-12-24T16:00:00Z"), until: try seconds("2026-12-27T06:00:00Z")))

        let backup = try #require(catalog.check(.init(project: "ops", key: "backup")))
        #expect(backup.maintenance.windows.count == 4)
        #expect(Array(backup.maintenance.windows.prefix(2)) == ops.maintenance)
        #expect(backup.maintenance.windows[2].timing == .recurring(schedule: try Schedule(parsing: "30 1 * * *"), duration: 5_400, zone: "Asia/Tokyo"))
        #expect(backup.maintenance.windows[3].timing == .fixed(from: try seconds("2026-12-31T15:00:00Z"), until: try seconds("2026-12-31T21:00:00Z")))
        #expect(backup.maintenance.windows[2].origin == "\(config.path)/checks.yaml:6:9")

        #expect(catalog.check(.init(project: "ops", key: "report"))?.maintenance.windows == ops.maintenance)
        let build = try #require(catalog.check(.init(project: "dev", key: "build")))
        #expect(build.maintenance.windows.map(\.timing) == [
            .recurring(schedule: try Schedule(parsing: "Sat *-*-* 22:00"), duration: 1_800, zone: "America/New_York")
        ])
        let lonely = try #require(catalog.check(.init(project: "default", key: "lonely")))
        #expect(lonely.maintenance.windows.map(\.timing) == [.recurring(schedule: try Schedule(parsing: "0 0 * * *"), duration: 60, zone: "UTC")])
        #expect(catalog.check(.init(project: "default", key: "lonely"))?.dependsOn == [])
    }

    @Test("fixed instants: Z, offsets and wall times; a skipped wall time reads with the offset before, a repeated one is the first")
    func instants() throws {
        let riga = try #require(TimeZoneDatabase.zone(named: "Europe/Riga"))
        func instant(_ text: String) throws -> Int64 {
            let parsed = try #require(WallInstant(parsing: text), "\(text)")
            return parsed.seconds(in: riga) * 1_000_000
        }
        #expect(try instant("2026-12-24T18:00:00Z") == seconds("2026-12-24T18:00:00Z"))
        #expect(try instant("2026-12-24T18:00:00+02:00") == seconds("2026-12-24T16:00:00Z"))
        #expect(try instant("2026-12-24T18:00:00-05:30") == seconds("2026-12-24T23:30:00Z"))
        #expect(try instant("2026-12-24 18:00") == seconds("2026-12-24T16:00:00Z"))
        #expect(try instant("2024-02-29T00:00:00Z") == seconds("2024-02-29T00:00:00Z"))
        // Riga springs forward on 2026-03-29 at 03:00 EET → 04:00 EEST: 03:30 does not exist.
        #expect(try instant("2026-03-29T03:30") == seconds("2026-03-29T01:30:00Z"))
        // It falls back on 2026-10-25 at 04:00 EEST → 03:00 EET: 03:30 happens twice.
        #expect(try instant("2026-10-25T03:30") == seconds("2026-10-25T00:30:00Z"))
        for bad in ["2026-12-24", "2026-13-01T00:00", "2026-02-29T00:00", "2026-12-24T24:00", "2026-12-24T18:00:00+2", "24.12.2026 18:00",
            "2026-12-24T18:00:00Zulu", "2026-12-24T18:60", "2026-12-24T18:00:00+19:00", ""]
        {
            #expect(WallInstant(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test("each mistake in a window is an error at the offending key, with the window's context")
    func badWindows() throws {
        let config = try TempConfig([
            "a.yaml": """
                projects:
                  ops:
                    maintenance: {schedule: "@daily", duration: 1h}
                checks:
                  a:
                    maintenance:
                      - {schedule: "0 3 * * *", from: 2026-12-24T18:00:00Z}
                      - {schedule: "0 3 * * *"}
                      - {duration: 1h}
                      - {reason: nothing}
                      - {from: 2026-12-24T18:00:00Z, until: 2026-12-25T18:00:00Z, duration: 1h}
                      - {from: 2026-12-24T18:00:00Z}
                      - {until: 2026-12-24T18:00:00Z}
                      - {from: 2026-12-24T18:00:00Z, until: 2026-12-24T17:00:00Z}
                      - {from: 2026-12-24, until: tomorrow}
                      - {schedule: "0 3 * * *", duration: 0}
                      - {schedule: "0 3 * * *", duration: 367d}
                      - {schedule: "61 3 * * *", duration: 1h}
                      - {schedule: "0 3 * * *", duration: 1h, tz: Europe/Rigga}
                      - {schedule: "0 3 * * *", duration: 1h, reson: typo}
                      - just text
                  b:
                    maintenance: {from: 2026-12-24T18:00:00Z, until: 2026-12-25T18:00:00Z}
                """
        ])
        let result = try config.load()
        let context = "a maintenance window of check 'a'"
        #expect(lines(result, config) == [
            "a.yaml:3:18 error type-mismatch: 'maintenance' of project 'ops' must be a list of windows, not a mapping",
            "a.yaml:7:33 error conflicting-keys: \(context) has both 'schedule' and 'from'; a window either recurs ('schedule' and 'duration') or is fixed ('from' and 'until'), keep one",
            "a.yaml:8:10 error missing-key: \(context) has a 'schedule' but no 'duration'; say how long each window lasts, e.g. 'duration: 1h'",
            "a.yaml:9:10 error missing-key: \(context) has a 'duration' but no 'schedule'; say when it starts, e.g. 'schedule: \"0 3 * * *\"'",
            "a.yaml:10:9 error missing-key: \(context) needs 'schedule' and 'duration' (recurring) or 'from' and 'until' (fixed)",
            "a.yaml:11:67 error conflicting-keys: \(context) is fixed ('from' and 'until'), so it takes no 'duration'; 'until' is where it ends",
            "a.yaml:12:10 error missing-key: \(context) has 'from' but no 'until'; give both instants",
            "a.yaml:13:10 error missing-key: \(context) has 'until' but no 'from'; give both instants",
            "a.yaml:14:45 error invalid-value: 'until' of the maintenance window is not after its 'from': 2026-12-24T17:00:00Z ≤ 2026-12-24T18:00:00Z",
            "a.yaml:15:16 error invalid-value: 'from' of \(context) must be an ISO 8601 date and time, not '2026-12-24'",
            "a.yaml:15:35 error invalid-value: 'until' of \(context) must be an ISO 8601 date and time, not 'tomorrow'",
            "a.yaml:16:43 error out-of-range: 'duration' of \(context) is 0s ('0'), out of range: it must be between 1s and 366d",
            "a.yaml:17:43 error out-of-range: 'duration' of \(context) is 367d, out of range: it must be between 1s and 366d",
            "a.yaml:18:20 error invalid-schedule: invalid schedule '61 3 * * *': \(Self.scheduleError("61 3 * * *"))",
            "a.yaml:19:51 error unknown-timezone: unknown time zone 'Europe/Rigga'",
            "a.yaml:20:47 error unknown-key: unknown key 'reson' in \(context)",
            "a.yaml:21:9 error type-mismatch: \(context) must be a mapping, not 'just text'",
            "a.yaml:23:18 error type-mismatch: 'maintenance' of check 'b' must be a list of windows, not a mapping",
        ])
        let notes = result.diagnostics.map { $0.notes.map(\.message) }
        #expect(notes[1] == ["the other one is here"])
        #expect(result.diagnostics[1].notes.first?.location?.line == 7)
        #expect(result.diagnostics[1].notes.first?.location?.column == 10)
        #expect(notes[14].first == "did you mean 'Europe/Riga'?")
        #expect(notes[15] == ["did you mean 'reason'?", "known keys in \(context): " + FileDecoder.windowKeys.joined(separator: ", ")])
        // The check's other settings still load as far as they can; the config is invalid.
        #expect(!result.isValid)
    }

    @Test("a wall-time window whose until is not after its from says the zone it was read in")
    func backwardsWallTimes() throws {
        let config = try TempConfig(["a.yaml": """
            checks:
              a:
                tz: America/New_York
                maintenance: [{from: 2026-11-01T01:30, until: 2026-11-01T01:10}]
            """])
        let result = try config.load()
        #expect(lines(result, config) == [
            "a.yaml:4:51 error invalid-value: 'until' of the maintenance window is not after its 'from' (wall times read in America/New_York): 2026-11-01T05:10:00Z ≤ 2026-11-01T05:30:00Z"
        ])
    }

    static func scheduleError(_ expression: String) -> String {
        do {
            _ = try Schedule(parsing: expression)
            return ""
        } catch {
            return error.message
        }
    }
}
