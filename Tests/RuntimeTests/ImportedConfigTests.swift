import Foundation
import Testing

@testable import Runtime

/// The pieces of `kiothc import healthchecks`' file: scalars, keys, durations, and the JSON it
/// reads (the whole file is asserted in KiothcTests' ImportCommandTests).
@Suite("Imported config")
struct ImportedConfigTests {
    @Test("strings are plain only when YAML cannot read them as anything else", arguments: [
        ("Database Backup", "Database Backup"),
        ("Europe/Riga", "Europe/Riga"),
        ("123", "\"123\""),
        ("true", "\"true\""),
        ("No", "\"No\""),
        ("null", "\"null\""),
        ("a: b", "\"a: b\""),
        ("x #y", "\"x #y\""),
        ("trailing ", "\"trailing \""),
        ("-dash", "\"-dash\""),
        ("say \"hi\"\\", "\"say \\\"hi\\\"\\\\\""),
        ("two\nlines\tand\r", "\"two\\nlines\\tand\\r\""),
        ("Café ☕", "\"Café ☕\""),
        ("bell\u{7}", "\"bell\\u0007\""),
        ("sep\u{2028}bom\u{FEFF}next\u{85}", "\"sep\\u2028bom\\uFEFFnext\\u0085\""),
        ("", "\"\""),
    ])
    func scalars(_ text: String, _ written: String) {
        #expect(ImportedConfig.scalar(text) == written)
    }

    @Test("durations are written largest unit first", arguments: [(60, "1m"), (90, "1m30s"), (3_600, "1h"), (86_400, "1d"), (90_061, "1d1h1m1s"), (31_536_000, "365d")])
    func durations(_ seconds: Int, _ written: String) {
        #expect(ImportedConfig.duration(seconds) == written)
    }

    static func check(_ uuid: Int, slug: String, name: String = "x") -> HealthchecksProject.Check {
        .init(
            uuid: "00000000-0000-4000-8000-00000000000\(uuid)", name: name, slug: slug, desc: "", tags: [], grace: 60,
            schedule: .timeout(60), methods: "", manualResume: false, paused: false, channelIDs: [])
    }

    @Test("keys come from slugs; repeats get -2, -3 by UUID, never taking another check's key; any order gives the same keys")
    func keys() {
        let long = String(repeating: "a", count: 70)
        let checks = [
            Self.check(3, slug: "backup"), Self.check(1, slug: "backup"), Self.check(2, slug: "backup-2"), Self.check(4, slug: "backup"),
            Self.check(5, slug: "__under_"), Self.check(6, slug: "", name: "Café Job"), Self.check(7, slug: "", name: "🔥"),
            Self.check(8, slug: long), Self.check(9, slug: long),
        ]
        let keyed = ImportedConfig.keys(for: checks)
        let expected = [
            (String(repeating: "a", count: 62) + "-2", 9), (String(repeating: "a", count: 64), 8),
            ("backup", 1), ("backup-2", 2), ("backup-3", 3), ("backup-4", 4), ("cafe-job", 6), ("check", 7), ("under_", 5),
        ]
        #expect(keyed.map(\.key) == expected.map(\.0))
        #expect(keyed.map { $0.check.uuid.last! } == expected.map { Character(String($0.1)) })
        #expect(ImportedConfig.keys(for: checks.reversed()).map(\.key) == keyed.map(\.key))
        #expect(keyed.allSatisfy { $0.key.count <= 64 })
    }

    @Test("a check's UUID is its uuid, else the end of its ping_url, lower-cased; a read-only key's checks are refused")
    func uuids() throws {
        let newer = #"{"checks": [{"name": "a", "slug": "a", "grace": 60, "timeout": 60, "uuid": "ABCDEF01-0000-4000-8000-000000000001", "ping_url": "x"}]}"#
        #expect(try HealthchecksProject.checks(fromJSON: Data(newer.utf8)).map(\.uuid) == ["abcdef01-0000-4000-8000-000000000001"])
        let older = #"{"checks": [{"name": "a", "slug": "a", "grace": 60, "timeout": 60, "ping_url": "https://hc-ping.com/ABCDEF01-0000-4000-8000-000000000002"}]}"#
        #expect(try HealthchecksProject.checks(fromJSON: Data(older.utf8)).map(\.uuid) == ["abcdef01-0000-4000-8000-000000000002"])
        let readOnly = #"{"checks": [{"name": "a", "slug": "a", "grace": 60, "timeout": 60, "unique_key": "abc"}]}"#
        #expect(throws: HealthchecksProject.Problem.self) { try HealthchecksProject.checks(fromJSON: Data(readOnly.utf8)) }
        do {
            _ = try HealthchecksProject.checks(fromJSON: Data(readOnly.utf8))
        } catch {
            #expect(error.readOnlyKey)
        }
        let noSchedule = #"{"checks": [{"name": "a", "slug": "a", "grace": 60, "uuid": "abcdef01-0000-4000-8000-000000000001"}]}"#
        do {
            _ = try HealthchecksProject.checks(fromJSON: Data(noSchedule.utf8))
            Issue.record("a check with neither timeout nor schedule was accepted")
        } catch {
            #expect(error.message == "check 'a' of GET /api/v3/checks/ has neither \"timeout\" nor \"schedule\"")
        }
    }
}
