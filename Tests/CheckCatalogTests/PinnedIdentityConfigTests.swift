import Foundation
import Testing

@testable import CheckCatalog

@Suite("uuid: and slug: pin a check's identity (SPEC §13)")
struct PinnedIdentityConfigTests {
    func load(_ files: [String: String]) throws -> LoadResult { try TempConfig(files).load() }

    @Test("a pinned UUID and slug are kept as written; without them the slug follows the name")
    func kept() throws {
        let result = try load([
            "a.yaml": """
                checks:
                  backup: {name: Nightly DB Backup, uuid: 5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b, slug: db_backup-v2}
                  report: {name: Weekly Report}

                """
        ])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.message))")
        let backup = try #require(result.catalog.check(.init(project: "default", key: "backup")))
        #expect(backup.pinnedUUID == UUID(uuidString: "5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b"))
        #expect(backup.slug == "db_backup-v2")
        let report = try #require(result.catalog.check(.init(project: "default", key: "report")))
        #expect(report.pinnedUUID == nil)
        #expect(report.slug == "weekly-report")
    }

    @Test("bad UUIDs and slugs, and one UUID pinned twice across files: errors at their positions, both places named")
    func refused() throws {
        let result = try load([
            "a.yaml": """
                checks:
                  upper: {uuid: 5A1B0C9E-2F4D-4F6A-8E2B-1C3D4E5F6A7B}
                  short: {uuid: 5a1b0c9e}
                  spaced: {slug: "db backup"}
                  capital: {slug: DB}
                  first: {uuid: 0b7c4a5e-0000-4000-8000-00000000000a}

                """,
            "b.yaml": "checks:\n  second: {uuid: 0b7c4a5e-0000-4000-8000-00000000000a}\n",
        ])
        let errors = result.diagnostics.map { "\(($0.location.file as NSString).lastPathComponent):\($0.location.line):\($0.location.column) \($0.message)" }
        let uuidRule = "must be a UUID in lower case, as its ping URL writes it (e.g. 5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b)"
        let slugRule = "must be 1 to 100 lower-case letters, digits, '-' or '_'"
        #expect(
            errors == [
                "a.yaml:2:17 'uuid' of check 'upper' \(uuidRule), not '5A1B0C9E-2F4D-4F6A-8E2B-1C3D4E5F6A7B'",
                "a.yaml:3:17 'uuid' of check 'short' \(uuidRule), not '5a1b0c9e'",
                "a.yaml:4:18 'slug' of check 'spaced' \(slugRule), not 'db backup'",
                "a.yaml:5:19 'slug' of check 'capital' \(slugRule), not 'DB'",
                "b.yaml:2:18 check 'default/second' pins the UUID 0b7c4a5e-0000-4000-8000-00000000000a, which 'default/first' pins too; a UUID names one check",
            ], "\(errors)")
        #expect(result.diagnostics.last?.notes.first?.location?.line == 6)
        #expect(result.diagnostics.last?.notes.first?.location?.file.hasSuffix("a.yaml") == true)
    }

    @Test("two checks of a project pinning one slug is the slug conflict of two names sharing it")
    func slugConflict() throws {
        let result = try load(["a.yaml": "checks:\n  a: {slug: same}\n  b: {name: Same}\n"])
        #expect(result.diagnostics.map(\.code) == [.slugConflict])
    }
}
