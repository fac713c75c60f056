@testable import CheckCatalog
import Monitoring
import TestSupport
import Testing

@Suite("Catalog order")
struct CatalogOrderTests {
    static func check(_ project: String, _ key: String, line: Int) -> CheckDefinition {
        CheckDefinition(
            id: CheckIdentity(project: project, key: key), name: key, expectation: .timeout(seconds: 60), grace: 60,
            tz: "UTC", tags: [], desc: "", methods: .any, manualResume: false, paused: false, channels: .all,
            location: Diagnostic.Location(file: "checks.yaml", line: line, column: 3))
    }

    /// What the catalog promised before it grouped by project: a stable sort by identity.
    static func plainOrder(_ checks: [CheckDefinition]) -> [Diagnostic.Location] {
        checks.enumerated().sorted { a, b in
            a.element.id == b.element.id ? a.offset < b.offset : a.element.id < b.element.id
        }.map(\.element.location)
    }

    @Test("checks come out in (project, key) order, whatever order they went in", arguments: [0, 1, 2, 3, 4, 5, 6, 7])
    func sortsLikeAPlainSort(seed: UInt64) {
        var random = SplitMix(seed: seed)
        let projects = ["ops", "api", "zeta", "a-b", "a"]
        var checks: [CheckDefinition] = []
        for line in 1...400 {
            // Runs of one project, keys partly in order, some keys repeated (a built catalog
            // may hold duplicates the builder reported).
            let project = projects[Int(random.next() % UInt64(projects.count))]
            let key = "job-\(random.next() % (seed.isMultiple(of: 2) ? 50 : 1000))"
            checks.append(Self.check(project, key, line: line))
        }
        let catalog = Catalog(projects: [], checks: checks, files: ["checks.yaml"])
        #expect(catalog.checks.map(\.location) == Self.plainOrder(checks))
        #expect(catalog.checks.count == checks.count)
    }

    @Test("already ordered checks, one project and several, keep their order")
    func alreadyOrdered() {
        let one = (1...50).map { Self.check("ops", String(format: "job-%03d", $0), line: $0) }
        #expect(Catalog(projects: [], checks: one, files: []).checks.map(\.location) == one.map(\.location))
        let several = (1...50).map { Self.check($0 <= 25 ? "api" : "ops", String(format: "job-%03d", $0), line: $0) }
        #expect(Catalog(projects: [], checks: several, files: []).checks.map(\.location) == several.map(\.location))
    }

    @Test("projects interleaved file by file come out grouped, each in key order")
    func interleavedProjects() {
        // File 1: ops keys 1-3; file 2: api keys 1-3; file 3: ops keys 4-6 (as the fleet
        // generator writes them).
        var checks: [CheckDefinition] = []
        var line = 0
        for (project, keys) in [("ops", 1...3), ("api", 1...3), ("ops", 4...6)] {
            for key in keys {
                line += 1
                checks.append(Self.check(project, "job-\(key)", line: line))
            }
        }
        let order = Catalog(projects: [], checks: checks, files: []).checks.map { "\($0.id)" }
        #expect(order == ["api/job-1", "api/job-2", "api/job-3", "ops/job-1", "ops/job-2", "ops/job-3", "ops/job-4", "ops/job-5", "ops/job-6"])
        #expect(Catalog(projects: [], checks: checks, files: []).check(CheckIdentity(project: "ops", key: "job-5"))?.location.line == 8)
    }

    @Test("an identity given twice (a catalog built by hand: the loader reports the second) is looked up as the first")
    func duplicateIdentity() {
        let checks = [Self.check("ops", "b", line: 1), Self.check("ops", "a", line: 2), Self.check("ops", "b", line: 3), Self.check("ops", "b", line: 4)]
        let catalog = Catalog(projects: [], checks: checks, files: [])
        #expect(catalog.check(CheckIdentity(project: "ops", key: "b"))?.location.line == 1)
        #expect(catalog.check(CheckIdentity(project: "ops", key: "a"))?.location.line == 2)
        #expect(!catalog.identitiesAreUnique)
        #expect(Catalog(projects: [], checks: Array(checks.prefix(2)), files: []).identitiesAreUnique)
    }

    @Test("an empty catalog")
    func empty() {
        #expect(Catalog(projects: [], checks: [], files: []).checks.isEmpty)
    }
}
