import Foundation
import Testing
@testable import CheckCatalog

/// `settings` (what `data/catalog.json` keeps of a check) and its inverse, which `kiothc status`
/// uses to show the configuration a server last applied while the files do not load.
@Suite("Check settings")
struct CheckSettingsTests {
    @Test("every kind of check is rebuilt from its settings with the same settings and slug")
    func roundTrip() throws {
        let config = try TempConfig([
            "a.yaml": """
                projects:
                  ops:
                    channels:
                      hook: {kind: webhook, url: "http://127.0.0.1:9/a"}
                      mail: {kind: webhook, url: "http://127.0.0.1:9/b"}
                checks:
                  plain:
                  timed: {project: ops, name: Database Backup, timeout: 1d6h30m, grace: 90s, tags: [prod, db], desc: "nightly, 'full'"}
                  cron: {project: ops, schedule: "*/5 * * * *", tz: Europe/Riga, methods: POST, manual_resume: true, channels: [hook]}
                  calendar: {project: ops, schedule: "Mon..Fri 03:00", paused: true, channels: [hook, mail]}
                """,
        ])
        let result = try config.load()
        #expect(result.isValid, "\(result.diagnostics)")
        #expect(result.catalog.checks.count == 4)
        for check in result.catalog.checks {
            let rebuilt = try CheckDefinition(
                id: check.id, name: check.name, settings: check.settings, location: Diagnostic.Location(file: "catalog.json", line: 0, column: 0))
            #expect(rebuilt.settings == check.settings, "\(check.id)")
            #expect(rebuilt.slug == check.slug)
        }
    }

    @Test("hasSameSettings: true only when the printed settings are equal, for every pair of checks")
    func sameSettingsAgreesWithPrinted() throws {
        // Pairs differ in one field each, including ones that print alike (a timeout's tz is
        // not printed) and windows and dependencies.
        let config = try TempConfig([
            "a.yaml": """
                checks:
                  base: {timeout: 1h, grace: 5m, tags: [a, b], desc: d}
                  same: {timeout: 1h, grace: 5m, tags: [a, b], desc: d}
                  other-tz: {timeout: 1h, grace: 5m, tags: [a, b], desc: d, tz: Europe/Riga}
                  longer: {timeout: 2h, grace: 5m, tags: [a, b], desc: d}
                  graced: {timeout: 1h, grace: 6m, tags: [a, b], desc: d}
                  tagged: {timeout: 1h, grace: 5m, tags: [b, a], desc: d}
                  described: {timeout: 1h, grace: 5m, tags: [a, b], desc: e}
                  post: {timeout: 1h, grace: 5m, tags: [a, b], desc: d, methods: POST}
                  manual: {timeout: 1h, grace: 5m, tags: [a, b], desc: d, manual_resume: true}
                  paused: {timeout: 1h, grace: 5m, tags: [a, b], desc: d, paused: true}
                  cron: {schedule: "0 3 * * *", grace: 5m, tags: [a, b], desc: d}
                  cron-riga: {schedule: "0 3 * * *", grace: 5m, tags: [a, b], desc: d, tz: Europe/Riga}
                  cron-4: {schedule: "0 4 * * *", grace: 5m, tags: [a, b], desc: d}
                  windowed: {timeout: 1h, grace: 5m, tags: [a, b], desc: d, maintenance: [{schedule: "0 1 * * sun", duration: 3h}]}
                  dependent: {timeout: 1h, grace: 5m, tags: [a, b], desc: d, depends_on: [base]}
                """,
        ])
        let result = try config.load()
        #expect(result.isValid, "\(result.diagnostics)")
        let checks = result.catalog.checks
        #expect(checks.count == 15)
        var equalPairs = 0
        for a in checks {
            for b in checks {
                let printedEqual = a.settings == b.settings
                #expect(a.hasSameSettings(as: b) == printedEqual, "\(a.id) vs \(b.id)")
                if printedEqual, a.id != b.id { equalPairs += 1 }
            }
        }
        // base, same and other-tz print alike: 6 ordered pairs.
        #expect(equalPairs == 6)
    }

    @Test("settings that kiothc did not write are refused, naming the field")
    func refused() throws {
        let good = ["timeout": "1h", "grace": "1h", "tags": "", "desc": "", "methods": "", "manual_resume": "false", "paused": "false", "channels": "*"]
        let location = Diagnostic.Location(file: "catalog.json", line: 0, column: 0)
        #expect(throws: Never.self) { try CheckDefinition(id: .init(project: "p", key: "k"), name: "K", settings: good, location: location) }
        for (field, value) in [("timeout", "soon"), ("grace", "1.5h"), ("methods", "PUT"), ("paused", "yes"), ("schedule", "61 * * * *")] {
            var settings = good
            settings[field] = value
            #expect {
                try CheckDefinition(id: .init(project: "p", key: "k"), name: "K", settings: settings, location: location)
            } throws: { error in
                "\(error)" == "\(field) '\(value)' is not a setting as kiothc writes it"
            }
        }
        var missing = good
        missing["grace"] = nil
        #expect {
            try CheckDefinition(id: .init(project: "p", key: "k"), name: "K", settings: missing, location: location)
        } throws: { error in
            "\(error)" == "grace is missing"
        }
    }
}
