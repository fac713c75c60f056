import CheckCatalog
import Foundation
import Monitoring
import PingStore
import Testing
@testable import Runtime
@testable import Server

/// The change set of a reload and of `kiothc plan`, as a function of (last applied catalog,
/// registry, new catalog).
@Suite("Catalog change")
struct CatalogChangeTests {
    static func load(_ yaml: String) throws -> Catalog {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-change-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data(yaml.utf8).write(to: root.appendingPathComponent("checks.yaml"))
        let result = try ConfigLoader.load(directory: root.path)
        #expect(result.isValid, "\(result.diagnostics)")
        return result.catalog
    }

    /// The registry and snapshot a server would have written after applying `catalog`.
    static func applied(_ catalog: Catalog) throws -> (Registry, AppliedCatalog) {
        var registry = Registry()
        let assigned = try registry.assign(catalog.checks.map(\.id))
        var uuids: [CheckDefinition.ID: UUID] = [:]
        for (identity, uuid) in assigned { uuids[identity] = uuid }
        return (registry, AppliedCatalog(catalog, uuids: uuids, at: 0))
    }

    @Test("a first start's change lists every check in the catalog's order: its UUIDs serve exactly as the registry's looked up")
    func firstStartServesInOrder() throws {
        // Keys out of order in the file and projects interleaved: the catalog puts them in order.
        let catalog = try Self.load("""
            projects:
              ops: {ping_key: opskey0123456789abcdef}
              web: {ping_key: webkey0123456789abcdef}
            checks:
              zeta: {project: web, name: Zeta}
              alpha: {project: ops, name: Same}
              beta: {project: ops, name: Same}
              gamma: {project: web, name: Gamma}
              delta: {name: Delta}
            """)
        var registry = Registry()
        var change = CatalogChange.between(previous: nil, registry: registry, catalog: catalog)
        #expect(change.added.map(\.id) == catalog.checks.map(\.id))
        #expect(change.added.map(\.name) == catalog.checks.map(\.name) && change.added.map(\.slug) == catalog.checks.map(\.slug))
        #expect(change.added.allSatisfy { $0.uuid == nil } && change.removed.isEmpty && change.renamed.isEmpty && change.changed.isEmpty)
        var lookedUpChange = change
        let assigned = try registry.assignMissing(catalog.checks.map(\.id))
        #expect(assigned != nil, "a first start's identities, sorted, come back in order")
        change.assign(AssignedUUIDs(byIdentity: registry.checks, inOrder: assigned))
        lookedUpChange.assign(AssignedUUIDs(byIdentity: registry.checks))
        #expect(change.added.map(\.uuid) == lookedUpChange.added.map(\.uuid))
        #expect(change.added.allSatisfy { $0.uuid != nil && $0.uuid == registry.uuid(for: $0.id) })
        let pingKeys = ["ops": "opskey0123456789abcdef", "web": "webkey0123456789abcdef", "default": "defkey0123456789abcdef"]
        let lookedUp = ServingCatalog(catalog: catalog, uuids: registry.checks, pingKeys: pingKeys)
        let inOrder = ServingCatalog(catalog: catalog, uuidsInOrder: change.added.map(\.uuid), pingKeys: pingKeys)
        for serving in [inOrder, lookedUp] {
            #expect(serving.count == catalog.checks.count)
            #expect(serving.uuid(of: CheckIdentity(project: "ops", key: "nope")) == nil)
            #expect(serving.entries.map(\.uuid) == catalog.checks.map { registry.uuid(for: $0.id) })
            for definition in catalog.checks {
                let uuid = try #require(registry.uuid(for: definition.id))
                #expect(serving.uuid(of: definition.id) == uuid)
                #expect(serving.check(uuid)?.definition.id == definition.id)
                #expect(serving.check(uuid)?.definition.id == lookedUp.check(uuid)?.definition.id)
                let key = try #require(pingKeys[definition.id.project])
                let bySlug = serving.check(pingKey: Substring(key), slug: Substring(definition.slug))
                switch (bySlug, lookedUp.check(pingKey: Substring(key), slug: Substring(definition.slug))) {
                case (.found(let a), .found(let b)): #expect(a.uuid == b.uuid && a.uuid == uuid)
                case (.ambiguous, .ambiguous): #expect(definition.slug == "same")
                default: Issue.record("\(definition.id): \(bySlug) differs from the looked-up catalog's answer")
                }
            }
        }
    }

    @Test("the same configuration changes nothing")
    func unchanged() throws {
        let catalog = try Self.load("checks:\n  a: {name: A, schedule: '0 3 * * *', tz: Europe/Riga}\n  b: {}\n")
        let (registry, snapshot) = try Self.applied(catalog)
        #expect(CatalogChange.between(previous: snapshot, registry: registry, catalog: catalog).isEmpty)
    }

    @Test("a new name is a rename with old and new slug; the UUID is the registry's")
    func rename() throws {
        let (registry, snapshot) = try Self.applied(try Self.load("checks:\n  a: {name: Database Backup}\n"))
        let change = CatalogChange.between(previous: snapshot, registry: registry, catalog: try Self.load("checks:\n  a: {name: DB Backup}\n"))
        #expect(change.renamed.count == 1)
        #expect(change.renamed.first?.oldSlug == "database-backup")
        #expect(change.renamed.first?.newSlug == "db-backup")
        #expect(change.renamed.first?.uuid == registry.uuid(for: CheckIdentity(project: "default", key: "a")))
        #expect(change.added.isEmpty && change.removed.isEmpty && change.changed.isEmpty)
    }

    @Test("a changed key is a deletion and a creation, never a rename")
    func rekey() throws {
        let (registry, snapshot) = try Self.applied(try Self.load("checks:\n  a: {name: Job}\n"))
        let change = CatalogChange.between(previous: snapshot, registry: registry, catalog: try Self.load("checks:\n  b: {name: Job}\n"))
        #expect(change.removed.map(\.id.key) == ["a"])
        #expect(change.removed.first?.slug == "job")
        #expect(change.added.map(\.id.key) == ["b"])
        #expect(change.added.first?.uuid == nil)
        #expect(change.renamed.isEmpty)
    }

    @Test("settings: each changed field with old and new value; timeout to schedule shows both")
    func settings() throws {
        let (registry, snapshot) = try Self.applied(try Self.load("checks:\n  a: {timeout: 1h, grace: 5m, tags: [x]}\n"))
        let change = CatalogChange.between(
            previous: snapshot, registry: registry, catalog: try Self.load("checks:\n  a: {schedule: '*/5 * * * *', grace: 5m, tags: [x, y], paused: true}\n"))
        let fields = change.changed.map { "\($0.field): \($0.old ?? "-") -> \($0.new ?? "-")" }
        #expect(fields == ["timeout: 1h -> -", "schedule: - -> */5 * * * *", "tz: - -> UTC", "tags: x -> x y", "paused: false -> true"])
    }

    @Test("maintenance windows and dependencies: added, changed and removed ones are changes of the check; none is no field at all")
    func holds() throws {
        let before = "checks:\n  db: {}\n  net: {}\n  a: {depends_on: [db], maintenance: [{schedule: '0 1 * * sun', duration: 3h, tz: Europe/Riga}]}\n  b: {}\n"
        let (registry, snapshot) = try Self.applied(try Self.load(before))
        #expect(snapshot.checks.first { $0.identity.key == "b" }?.settings.keys.contains("maintenance") == false, "absent, as in catalogs applied before")
        let after = """
            checks:
              db: {}
              net: {}
              a: {depends_on: [db, net], maintenance: [{schedule: '0 1 * * sun', duration: 4h, tz: Europe/Riga, reason: upgrade}]}
              b: {maintenance: [{from: '2026-12-24T00:00:00Z', until: '2026-12-27T00:00:00Z'}]}

            """
        let change = CatalogChange.between(previous: snapshot, registry: registry, catalog: try Self.load(after))
        let fields = change.changed.map { "\($0.id.key) \($0.field): \($0.old ?? "-") -> \($0.new ?? "-")" }.sorted()
        #expect(
            fields == [
                "a depends_on: default/db -> default/db default/net",
                "a maintenance: 0 1 * * sun (Europe/Riga) for 3h -> 0 1 * * sun (Europe/Riga) for 4h — upgrade",
                "b maintenance: - -> 2026-12-24T00:00:00Z until 2026-12-27T00:00:00Z",
            ])
        #expect(CatalogChange.between(previous: snapshot, registry: registry, catalog: try Self.load(before)).isEmpty)
    }

    @Test("against the serving catalog (a reload) the change is what the snapshot gives")
    func servingEqualsSnapshot() throws {
        let beforeYAML = """
            checks:
              a: {name: Twin}
              b: {name: twin}
              c: {name: Solo, timeout: 1h}
              d: {name: Cron, schedule: '0 3 * * *', tz: Europe/Riga, tags: [x]}
              e: {name: Gone}
              f: {name: Kept, maintenance: [{schedule: "0 1 * * sun", duration: 3h}]}
            """
        let before = try Self.load(beforeYAML)
        let after = try Self.load("""
            checks:
              a: {name: Other}
              b: {name: twin}
              c: {name: Solo, timeout: 2h}
              d: {name: Cron, schedule: '0 4 * * *', tz: Europe/Riga, tags: [x, y]}
              f: {name: Kept, maintenance: [{schedule: "0 2 * * sun", duration: 3h}]}
              g: {name: Gone}
            """)
        let (registry, snapshot) = try Self.applied(before)
        let serving = ServingCatalog(catalog: before, uuids: registry.checks, pingKeys: [:])
        let fromSnapshot = CatalogChange.between(previous: snapshot, registry: registry, catalog: after)
        let fromServing = CatalogChange.between(serving: serving, registry: registry, catalog: after)
        let urls = PingURLFormat(base: nil)
        #expect(CatalogChangeReport(fromServing, urls: urls).text() == CatalogChangeReport(fromSnapshot, urls: urls).text())
        #expect(fromServing.renamed.map(\.id.key) == ["a"])
        #expect(fromServing.changed.map { "\($0.id.key) \($0.field)" } == ["c timeout", "d schedule", "d tags", "f maintenance"])
        #expect(fromServing.removed.map(\.id.key) == ["e"])
        #expect(fromServing.removed.first?.slugSuccessor?.answer == "default/g")
        #expect(fromServing.added.map(\.id.key) == ["g"])
        // Nothing changed: nothing reported, and the snapshot on disk is kept.
        // (Loaded again: equal definitions, not the same storage.)
        let same = CatalogChange.between(serving: serving, registry: registry, catalog: try Self.load(beforeYAML))
        #expect(same.isEmpty)
        #expect(same.keepsSnapshot(previous: .serving(serving), checks: 6))
    }

    @Test("many slug URLs left at once are answered as a few are (scanned, then indexed)")
    func manySlugSuccessors() throws {
        // 12 pairs of twins; one of each pair removed: every slug URL is the other twin's now.
        let pairs = (1...12).map { n in "  a\(n): {name: Twin \(n)}\n  b\(n): {name: twin \(n)}\n" }.joined()
        let (registry, snapshot) = try Self.applied(try Self.load("checks:\n" + pairs))
        let kept = (1...12).map { n in "  b\(n): {name: twin \(n)}\n" }.joined()
        let change = CatalogChange.between(previous: snapshot, registry: registry, catalog: try Self.load("checks:\n" + kept))
        #expect(change.removed.count == 12)
        for removed in change.removed {
            let n = removed.id.key.dropFirst()
            #expect(removed.slugSuccessor?.answer == "default/b\(n) (no longer ambiguous)", "\(removed.id)")
        }
    }

    @Test("only conflicts that did not exist before are new")
    func conflicts() throws {
        let (registry, snapshot) = try Self.applied(try Self.load("checks:\n  a: {name: Twin}\n  b: {name: twin}\n  c: {name: C}\n"))
        let same = CatalogChange.between(previous: snapshot, registry: registry, catalog: try Self.load("checks:\n  a: {name: Twin}\n  b: {name: twin}\n  c: {name: C}\n"))
        #expect(same.newConflicts.isEmpty)
        let more = CatalogChange.between(previous: snapshot, registry: registry, catalog: try Self.load("checks:\n  a: {name: Twin}\n  b: {name: twin}\n  c: {name: c}\n  d: {name: C!}\n"))
        #expect(more.newConflicts == [CatalogChange.Conflict(project: "default", slug: "c", keys: ["c", "d"])])
        // The builder says whether slugs are unique, so a change need not look among them all.
        #expect(try Self.load("checks:\n  a: {name: Twin}\n  b: {name: twin}\n").slugsAreUnique == false)
        #expect(try Self.load("checks:\n  a: {name: Twin}\n  b: {name: Twin 2}\n  c: {name: ''}\n").slugsAreUnique == true)
        #expect(try Self.load("projects:\n  p: {}\nchecks:\n  a: {name: Twin}\n  b: {name: twin, project: p}\n").slugsAreUnique == true)
    }

    @Test("a slug URL left by a removed or renamed check is told as answered by whoever has the slug now, not as 404")
    func slugSuccessors() throws {
        let ops = { (key: String) in CheckIdentity(project: "default", key: key) }
        let (registry, snapshot) = try Self.applied(try Self.load("checks:\n  a: {name: Twin}\n  b: {name: twin}\n  c: {name: Solo}\n"))
        // One of two twins removed: the other answers alone.
        let removed = CatalogChange.between(previous: snapshot, registry: registry, catalog: try Self.load("checks:\n  b: {name: twin}\n  c: {name: Solo}\n"))
        #expect(removed.removed.first?.slugSuccessor == CatalogChange.SlugSuccessor(checks: [ops("b")], wasShared: true))
        #expect(removed.removed.first?.slugSuccessor?.answer == "default/b (no longer ambiguous)")
        // One of two twins renamed away: its old slug URL is the other's now.
        let renamed = CatalogChange.between(previous: snapshot, registry: registry, catalog: try Self.load("checks:\n  a: {name: Other}\n  b: {name: twin}\n  c: {name: Solo}\n"))
        #expect(renamed.renamed.first?.oldSlugSuccessor?.answer == "default/b (no longer ambiguous)")
        // A removed check's slug taken by a new one: it answers that one (it was never ambiguous).
        let taken = CatalogChange.between(previous: snapshot, registry: registry, catalog: try Self.load("checks:\n  a: {name: Twin}\n  b: {name: twin}\n  d: {name: Solo}\n"))
        #expect(taken.removed.first?.slugSuccessor?.answer == "default/d")
        // Still shared by two after one of three left: 409.
        let (registry3, snapshot3) = try Self.applied(try Self.load("checks:\n  a: {name: Twin}\n  b: {name: twin}\n  c: {name: TWIN}\n"))
        let still = CatalogChange.between(previous: snapshot3, registry: registry3, catalog: try Self.load("checks:\n  b: {name: twin}\n  c: {name: TWIN}\n"))
        #expect(still.removed.first?.slugSuccessor?.answer == "409 (ambiguous: default/b, default/c)")
        // Nobody has it: 404, as before.
        let gone = CatalogChange.between(previous: snapshot, registry: registry, catalog: try Self.load("checks:\n  a: {name: Twin}\n  b: {name: twin}\n"))
        #expect(gone.removed.first?.slugSuccessor == nil)
        let text = CatalogChangeReport(removed, urls: PingURLFormat(base: nil)).text()
        #expect(text.contains("      not /ping/<default-ping-key>/twin: it will answer default/b (no longer ambiguous)\n"))
        #expect(!text.contains("      /ping/<default-ping-key>/twin\n"))
        let renamedText = CatalogChangeReport(renamed, urls: PingURLFormat(base: nil)).text()
        #expect(renamedText.contains(
            "      /ping/<default-ping-key>/twin -> /ping/<default-ping-key>/other\n      not /ping/<default-ping-key>/twin: it will answer default/b (no longer ambiguous)\n"))
        let json = try JSONSerialization.jsonObject(with: Data(CatalogChangeReport(renamed, urls: PingURLFormat(base: nil)).json().utf8)) as? [String: Any]
        #expect((json?["renamed"] as? [[String: Any]])?.first?["old_slug_url_answered_by"] as? [String] == ["default/b"])
        let plainJSON = try JSONSerialization.jsonObject(with: Data(CatalogChangeReport(gone, urls: PingURLFormat(base: nil)).json().utf8)) as? [String: Any]
        let deleted = (plainJSON?["deleted"] as? [[String: Any]])?.first
        #expect(deleted?["broken_urls"] as? [String] == ["/ping/\(PingURLFormat.name(gone.removed[0].uuid))", "/ping/<default-ping-key>/solo"])
        #expect(deleted?["kept_urls"] == nil, "absent when nothing keeps answering")
    }

    @Test("without a snapshot only creations and deletions can be told")
    func noSnapshot() throws {
        let (registry, _) = try Self.applied(try Self.load("checks:\n  a: {name: A}\n  gone: {}\n"))
        let change = CatalogChange.between(previous: nil, registry: registry, catalog: try Self.load("checks:\n  a: {name: Renamed}\n  new: {}\n"))
        #expect(change.renamed.isEmpty && change.changed.isEmpty)
        #expect(change.added.map(\.id.key) == ["new"])
        #expect(change.removed.map(\.id.key) == ["gone"])
        #expect(change.removed.first?.slug == nil)
    }
}

@Suite("Admin token")
struct AdminTokenTests {
    @Test("only the exact token authorizes: not a prefix, not a longer one, not one 256 bytes longer, not without Bearer")
    func compare() {
        let token = AdminToken("abcdefghijklmnopqrstuvwxyz012345")
        #expect(token.authorizes("Bearer abcdefghijklmnopqrstuvwxyz012345"))
        #expect(!token.authorizes("Bearer abcdefghijklmnopqrstuvwxyz01234"))
        #expect(!token.authorizes("Bearer abcdefghijklmnopqrstuvwxyz0123456"))
        #expect(!token.authorizes("Bearer abcdefghijklmnopqrstuvwxyz012345" + String(repeating: "x", count: 256)))
        #expect(!token.authorizes("abcdefghijklmnopqrstuvwxyz012345"))
        #expect(!token.authorizes("Bearer "))
        #expect(!token.authorizes(nil))
    }

    @Test("generated once into the data directory with mode 0600, then read back; a short token file is refused")
    func file() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let (first, origin) = try AdminToken.load(dataDirectory: root.path, file: nil)
        #expect(origin == .generated)
        #expect(first.text.count >= 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent("admin-token").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let (again, originAgain) = try AdminToken.load(dataDirectory: root.path, file: nil)
        #expect(originAgain == .stored)
        #expect(again.text == first.text)
        let short = root.appendingPathComponent("short")
        try Data("tooshort\n".utf8).write(to: short)
        #expect(throws: AdminToken.Failure.self) { try AdminToken.load(dataDirectory: root.path, file: short.path) }
        #expect(throws: AdminToken.Failure.self) { try AdminToken.load(dataDirectory: root.path, file: root.appendingPathComponent("missing").path) }
    }
}

@Suite("Metrics exposition")
struct MetricsEndpointTests {
    @Test("reload metrics in the Prometheus text format")
    func render() {
        let status = ReloadStatus(
            lastAttempt: 2_000_000, lastSucceeded: false, lastSuccess: 1_700_000_000_123_000, servingHash: 0x0123_4567_89ab_cdef,
            attemptedHash: 1, diagnostics: [], failure: nil)
        let text = MetricsEndpoint.render(status)
        #expect(text.contains("\nkiothc_config_last_reload_successful 0\n"))
        #expect(text.contains("\nkiothc_config_last_reload_success_timestamp_seconds 1700000000.123\n"))
        #expect(text.contains("\nkiothc_config_hash{hash=\"0123456789abcdef\"} \(0x0123_4567_89ab)\n"))
        #expect(text.contains("# TYPE kiothc_config_hash gauge\n"))
    }
}
