import Foundation
import Monitoring
import Testing
@testable import CheckCatalog

@Suite("Check dependencies in the configuration")
struct DependencyConfigTests {
    private func lines(_ result: LoadResult, _ config: TempConfig) -> [String] {
        result.diagnostics.map { diagnostic in
            let file = String(diagnostic.location.file.dropFirst(config.path.count + 1))
            return "\(file):\(diagnostic.location.line):\(diagnostic.location.column) \(diagnostic.severity.rawValue) \(diagnostic.code.rawValue): \(diagnostic.message)"
        }
    }

    private func noteLines(_ diagnostic: Diagnostic, _ config: TempConfig) -> [String] {
        diagnostic.notes.map { note in
            guard let location = note.location else { return note.message }
            return "\(location.file.dropFirst(config.path.count + 1)):\(location.line):\(location.column) \(note.message)"
        }
    }

    @Test("entries name a key of the same project or project/key, resolved in their order")
    func resolved() throws {
        let config = try TempConfig([
            "a.yaml": """
                projects:
                  ops:
                  infra:
                checks:
                  host: {project: infra}
                  db: {project: ops, depends_on: [infra/host]}
                  backup: {project: ops, depends_on: [db, infra/host]}
                  report: {project: ops, depends_on: ["ops/backup"]}
                """
        ])
        let result = try config.load()
        #expect(result.diagnostics.isEmpty, "\(lines(result, config))")
        let catalog = result.catalog
        let host = CheckIdentity(project: "infra", key: "host")
        let db = CheckIdentity(project: "ops", key: "db")
        let backup = CheckIdentity(project: "ops", key: "backup")
        let report = CheckIdentity(project: "ops", key: "report")
        #expect(catalog.check(db)?.dependsOn == [host])
        #expect(catalog.check(backup)?.dependsOn == [db, host])
        #expect(catalog.check(report)?.dependsOn == [backup])
        #expect(catalog.check(host)?.dependsOn == [])
        #expect(catalog.dependencies(of: report) == [backup, db, host])
        #expect(catalog.dependencies(of: backup) == [db, host])
        #expect(catalog.dependencies(of: host) == [])
        #expect(catalog.dependencies(of: CheckIdentity(project: "ops", key: "nope")) == [])
    }

    @Test("dependencies(of:) is finite, without duplicates and without the check itself, even on a cycle")
    func dependenciesOnCycle() {
        func check(_ key: String, _ dependsOn: [String]) -> CheckDefinition {
            CheckDefinition(
                id: CheckIdentity(project: "p", key: key), name: key, expectation: .timeout(seconds: 60), grace: 60, tz: "UTC", tags: [],
                desc: "", methods: .any, manualResume: false, paused: false, channels: .all,
                location: Diagnostic.Location(file: "x", line: 1, column: 1), dependsOn: dependsOn.map { CheckIdentity(project: "p", key: $0) })
        }
        let catalog = Catalog(
            projects: [Project(id: "p", name: "p")],
            checks: [check("a", ["b", "c"]), check("b", ["c", "a"]), check("c", ["d", "b"]), check("d", ["a", "d"])], files: [])
        let ids = ["a", "b", "c", "d"].map { CheckIdentity(project: "p", key: $0) }
        #expect(catalog.dependencies(of: ids[0]) == [ids[1], ids[2], ids[3]])
        #expect(catalog.dependencies(of: ids[3]) == [ids[0], ids[1], ids[2]])
        #expect(catalog.dependencies(of: ids[2]) == [ids[3], ids[1], ids[0]])
    }

    @Test("unknown targets and projects, a check on itself, bad entries and duplicates, each at its entry")
    func mistakes() throws {
        let config = try TempConfig([
            "a.yaml": """
                projects:
                  ops:
                checks:
                  backup: {project: ops}
                  db:
                    project: ops
                    depends_on:
                      - bakup
                      - opps/backup
                      - ops/db
                      - a/b/c
                      - backup
                      - ops/backup
                      - default/reprot
                  report:
                    depends_on: db
                  export:
                    project: ops
                    depends_on: [host]
                  host: {project: infra}
                """,
            "b.yaml": "projects:\n  infra:\n  infra2:\nproject: infra2\nchecks:\n  host:\n",
        ])
        let result = try config.load()
        #expect(lines(result, config) == [
            "a.yaml:8:9 error unknown-check: check 'ops/db' depends on unknown check 'ops/bakup'",
            "a.yaml:9:9 error unknown-project: unknown project 'opps'",
            "a.yaml:10:9 error dependency-cycle: check 'ops/db' depends on itself",
            "a.yaml:11:9 error invalid-value: 'depends_on' entry 'a/b/c' of check 'db' must be a check key or 'project/key'",
            "a.yaml:13:9 warning duplicate-dependency: check 'ops/db' lists 'ops/backup' twice in 'depends_on'",
            "a.yaml:14:9 error unknown-check: check 'ops/db' depends on unknown check 'default/reprot'",
            "a.yaml:16:17 error type-mismatch: 'depends_on' of check 'report' must be a list, not 'db'",
            "a.yaml:19:18 error unknown-check: check 'ops/export' depends on unknown check 'ops/host'",
        ])
        #expect(noteLines(result.diagnostics[7], config).first == "did you mean 'infra/host' or 'infra2/host'? another project's check is named 'project/key'")
        #expect(noteLines(result.diagnostics[0], config).first == "did you mean 'backup'?")
        #expect(noteLines(result.diagnostics[1], config).first == "did you mean 'ops'?")
        #expect(noteLines(result.diagnostics[4], config) == ["a.yaml:12:9 first listed here"])
        #expect(noteLines(result.diagnostics[5], config).first == "did you mean 'default/report'?")
        // What resolved stays: the duplicate is dropped.
        #expect(result.catalog.check(.init(project: "ops", key: "db"))?.dependsOn == [.init(project: "ops", key: "backup")])
    }

    @Test("each cycle is reported once, at the entry that closes it, naming the whole cycle, with a note at each other entry")
    func cycles() throws {
        let config = try TempConfig([
            "a.yaml": """
                project: ops
                projects:
                  ops:
                  web:
                checks:
                  a: {depends_on: [b]}
                  b: {depends_on: [c, web/x]}
                  c: {depends_on: [a]}
                  d: {depends_on: [a, d2]}
                  d2: {depends_on: [d]}
                """,
            "b.yaml": """
                project: web
                checks:
                  x: {depends_on: [ops/b]}
                  ok: {depends_on: [ops/a]}
                """,
        ])
        let result = try config.load()
        #expect(lines(result, config) == [
            "a.yaml:8:20 error dependency-cycle: dependency cycle: ops/a → ops/b → ops/c → ops/a",
            "a.yaml:10:21 error dependency-cycle: dependency cycle: ops/d → ops/d2 → ops/d",
            "b.yaml:3:20 error dependency-cycle: dependency cycle: ops/b → web/x → ops/b",
        ])
        #expect(noteLines(result.diagnostics[0], config) == [
            "a.yaml:6:20 'ops/a' depends on 'ops/b' here",
            "a.yaml:7:20 'ops/b' depends on 'ops/c' here",
            "a check cannot wait for itself; remove one of these dependencies",
        ])
        #expect(noteLines(result.diagnostics[1], config).count == 2)
        #expect(noteLines(result.diagnostics[2], config).first == "a.yaml:7:23 'ops/b' depends on 'web/x' here")
    }

    @Test("a long chain loads without exhausting the stack, and a cycle through it is found")
    func longChain() throws {
        let count = 5_000
        var text = "checks:\n"
        for index in 0..<count { text += "  c\(index): {depends_on: [c\(index + 1)]}\n" }
        text += "  c\(count): {depends_on: [c0]}\n"
        let config = try TempConfig(["a.yaml": text])
        let result = try config.load()
        #expect(result.diagnostics.map(\.code) == [.dependencyCycle])
        #expect(result.diagnostics.first?.location.line == count + 2)
        let notes = try #require(result.diagnostics.first?.notes)
        #expect(notes.count == CatalogBuilder.cycleNoteLimit + 2)
        #expect(notes[CatalogBuilder.cycleNoteLimit].message == "and \(count - CatalogBuilder.cycleNoteLimit) more entries along the cycle")
    }
}
