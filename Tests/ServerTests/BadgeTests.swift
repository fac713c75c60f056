import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Monitoring
import PingStore
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

@testable import Runtime
@testable import Server

private let s: Int64 = 1_000_000
private let t0: Int64 = 1_700_000_000 * s

/// Badges (SPEC §13) at Healthchecks' URLs, against the real runtime of `serve` on a manual
/// clock: statuses over several checks with tags, every URL form and format, refusals, headers,
/// `GET /api/v3/badges/` and the secret they derive from, kept across restarts.
@Suite("Badges")
struct BadgeTests {
    static let yaml = """
        projects:
          ops:
            name: Operations
            api_keys: {read_only: ops-read-only-key-0001, read_write: ops-read-write-key-0001}
          web:
            api_keys: {read_write: web-read-write-key-0001}
        checks:
          backup: {project: ops, name: Nightly <Backup>, timeout: 1m, grace: 1m, tags: [prod, db]}
          queue: {project: ops, timeout: 5m, grace: 1m, tags: [prod]}
          fresh: {project: ops, timeout: 1h, tags: ["a+b"]}
          site: {project: web, timeout: 1m, grace: 1m, tags: [prod]}
        """
    static let ro: HTTPFields = [.xAPIKey: "ops-read-only-key-0001"]

    final class Fixture: Sendable {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-badges-\(UUID().uuidString)").path
        let clock = ManualClock(at: t0)
        let app: TestApplication

        init() async throws {
            app = try await TestApplication(root: root, yaml: BadgeTests.yaml, clock: clock.clock, baseURL: "http://hc.test")
        }

        var application: some ApplicationProtocol { Application(responder: app.application.responder(scheme: "http")) }
        var signer: BadgeSigner { app.application.api.badges }

        func uuid(_ identity: String) throws -> UUID { try #require(app.uuid(identity)) }

        /// The path of a tag's badge of project `ops`, signed.
        func tagPath(_ tag: String, _ format: String, threeState: Bool, project: String = "ops") -> String {
            let key = signer.badgeKey(project: project)
            let sig = signer.signature(badgeKey: key, tag: tag) + (threeState ? "" : "-2")
            return tag == "*" ? "/badge/\(key)/\(sig).\(format)" : "/badge/\(key)/\(sig)/\(ManagementAPI.quoted(tag)).\(format)"
        }

        func checkPath(_ identity: String, states: Int, _ format: String) throws -> String {
            "/b/\(states)/\(signer.checkBadge(try uuid(identity))).\(format)"
        }

        deinit {
            app.close()
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    static func get(_ client: some TestClientProtocol, _ path: String, method: HTTPRequest.Method = .get) async throws -> (HTTPResponse, String) {
        try await client.execute(uri: path, method: method) { response in (response.head, String(buffer: response.body)) }
    }

    /// The badge's JSON document, its values as text (numbers as digits).
    static func json(_ client: some TestClientProtocol, _ path: String) async throws -> [String: String] {
        let (head, body) = try await get(client, path)
        #expect(head.status == .ok, "\(path)")
        #expect(head.headerFields[.contentType] == "application/json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(path): \(body)")
        return object.mapValues { "\($0)" }
    }

    static func ping(_ client: some TestClientProtocol, _ uuid: UUID) async throws {
        try await client.execute(uri: "/ping/\(uuid.uuidString.lowercased())", method: .get) { #expect($0.status == .ok) }
    }

    @Test("statuses over tags: up, then late (three-state only), then down; counts as Healthchecks")
    func statuses() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            for identity in ["ops/backup", "ops/queue", "web/site"] { try await Self.ping(client, try fixture.uuid(identity)) }
            fixture.clock.advance(by: 10 * s)
            #expect(try await Self.json(client, fixture.tagPath("prod", "json", threeState: true)) == ["status": "up", "total": "2", "grace": "0", "down": "0"])
            // The never-pinged check is new: it counts as up.
            #expect(try await Self.json(client, fixture.tagPath("*", "json", threeState: true)) == ["status": "up", "total": "3", "grace": "0", "down": "0"])
            #expect(try await Self.json(client, fixture.tagPath("a+b", "json", threeState: true)) == ["status": "up", "total": "1", "grace": "0", "down": "0"])

            // backup and site are in their grace period: late in three states, up in two.
            fixture.clock.advance(by: 80 * s)
            #expect(try await Self.json(client, fixture.tagPath("prod", "json", threeState: true)) == ["status": "late", "total": "2", "grace": "1", "down": "0"])
            #expect(try await Self.json(client, fixture.tagPath("prod", "json", threeState: false)) == ["status": "up", "total": "2", "grace": "1", "down": "0"])
            #expect(try await Self.json(client, fixture.tagPath("db", "shields", threeState: true)) == [
                "schemaVersion": "1", "label": "db", "message": "late", "color": "important",
            ])
            #expect(try await Self.json(client, fixture.tagPath("db", "shields", threeState: false)) == [
                "schemaVersion": "1", "label": "db", "message": "up", "color": "success",
            ])
            #expect(try await Self.json(client, fixture.tagPath("*", "shields", threeState: true))["label"] == "Operations")
            #expect(try await Self.json(client, fixture.checkPath("ops/backup", states: 3, "json")) == ["status": "late", "total": "1", "grace": "1", "down": "0"])
            #expect(try await Self.json(client, fixture.checkPath("ops/backup", states: 2, "json")) == ["status": "up", "total": "1", "grace": "1", "down": "0"])
            #expect(try await Self.json(client, fixture.checkPath("ops/queue", states: 3, "json")) == ["status": "up", "total": "1", "grace": "0", "down": "0"])
            let (head, svg) = try await Self.get(client, fixture.tagPath("prod", "svg", threeState: true))
            #expect(head.status == .ok)
            #expect(head.headerFields[.contentType] == "image/svg+xml")
            #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
            #expect(svg.contains(">prod</text>") && svg.contains(">late</text>") && svg.contains("#fe7d37"))

            // backup is down: down in both forms, whatever else is up or late.
            fixture.clock.advance(by: 40 * s)
            #expect(try await Self.json(client, fixture.tagPath("prod", "json", threeState: false)) == ["status": "down", "total": "2", "grace": "0", "down": "1"])
            #expect(try await Self.json(client, fixture.tagPath("*", "json", threeState: true)) == ["status": "down", "total": "3", "grace": "0", "down": "1"])
            #expect(try await Self.json(client, fixture.checkPath("ops/backup", states: 2, "shields")) == [
                "schemaVersion": "1", "label": "Nightly <Backup>", "message": "down", "color": "critical",
            ])
            // Another project's tag of the same name counts its own checks only.
            #expect(try await Self.json(client, fixture.tagPath("prod", "json", threeState: true, project: "web")) == [
                "status": "down", "total": "1", "grace": "0", "down": "1",
            ])
            let (_, checkSVG) = try await Self.get(client, try fixture.checkPath("ops/backup", states: 3, "svg"))
            #expect(checkSVG.contains(">Nightly &lt;Backup&gt;</text>") && checkSVG.contains(">down</text>") && checkSVG.contains("#e05d44"))
            #expect(!checkSVG.contains("<Backup>"))
            let (_, allSVG) = try await Self.get(client, fixture.tagPath("*", "svg", threeState: false))
            #expect(allSVG.contains(">Operations</text>") && allSVG.contains(">down</text>"))
        }
    }

    @Test("wrong keys, signatures, formats and UUIDs answer 404; methods and headers as Healthchecks' never_cache and cors")
    func refusals() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            let key = fixture.signer.badgeKey(project: "ops")
            let prodSig = fixture.signer.signature(badgeKey: key, tag: "prod")
            let badge = try fixture.uuid("ops/backup")
            let good = [
                fixture.tagPath("prod", "svg", threeState: true), fixture.tagPath("*", "json", threeState: false),
                try fixture.checkPath("ops/backup", states: 3, "shields"), try fixture.checkPath("ops/backup", states: 7, "svg"),
                // As Healthchecks: only the signature's first 8 characters are compared.
                "/badge/\(key)/\(prodSig)-anything/prod.json",
            ]
            for path in good {
                let (head, _) = try await Self.get(client, path)
                #expect(head.status == .ok, "\(path)")
                #expect(head.headerFields[.cacheControl] == "max-age=0, no-cache, no-store, must-revalidate, private", "\(path)")
                #expect(head.headerFields[.accessControlAllowOrigin] == "*", "\(path)")
            }
            let bad = [
                "/badge/\(key)/\(prodSig)/db.svg",  // another tag's signature
                "/badge/\(key)/AAAAAAAA/prod.svg",
                "/badge/\(key)/\(prodSig.prefix(7))/prod.svg",
                "/badge/\(fixture.signer.badgeKey(project: "web"))/\(prodSig)/prod.svg",  // another project's key
                "/badge/unknown-key/\(prodSig)/prod.svg",
                "/badge/\(key)/\(prodSig)/prod.png",  // unknown format
                "/badge/\(key)/\(prodSig)/prod",
                "/badge/\(key)/\(prodSig)/prod.svg/",
                "/badge/\(key)/\(prodSig).svg",  // the signature of "prod", not of "*"
                "/badge/\(key)/\(prodSig)/x/prod.svg",
                "/badge/\(key)/\(fixture.signer.signature(badgeKey: key, tag: "*"))/*.svg",  // "*" is no tag segment
                "/b/3/\(fixture.signer.checkBadge(badge).uppercased()).svg",
                "/b/3/\(badge.uuidString.lowercased()).svg",  // the ping UUID is not the badge UUID
                "/b/x/\(fixture.signer.checkBadge(badge)).svg",
                "/b/3/\(fixture.signer.checkBadge(badge)).html",
                "/b/\(fixture.signer.checkBadge(badge)).svg",
                "/b/3/\(UUID().uuidString.lowercased()).svg",
            ]
            for path in bad {
                let (head, _) = try await Self.get(client, path)
                #expect(head.status == .notFound, "\(path)")
                #expect(head.headerFields[.cacheControl]?.contains("no-cache") == true, "\(path)")
            }
            let path = fixture.tagPath("prod", "svg", threeState: false)
            let (preflight, _) = try await Self.get(client, path, method: .options)
            #expect(preflight.status == .noContent)
            #expect(preflight.headerFields[.accessControlAllowOrigin] == "*")
            #expect(preflight.headerFields[.accessControlAllowMethods] == "GET, OPTIONS")
            let (post, _) = try await Self.get(client, path, method: .post)
            #expect(post.status == .methodNotAllowed)
            let (head, body) = try await Self.get(client, path, method: .head)
            #expect(head.status == .ok && body.isEmpty)
        }
    }

    @Test("GET /api/v3/badges/ lists every tag's URLs in six formats, and each answers")
    func listing() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            let document = try await client.execute(uri: "/api/v3/badges/", method: .get, headers: Self.ro) { response in
                #expect(response.status == .ok)
                return try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: [String: [String: String]]])
            }
            let badges = try #require(document["badges"])
            #expect(Set(badges.keys) == ["*", "prod", "db", "a+b"])
            for (tag, urls) in badges {
                #expect(Set(urls.keys) == ["svg", "svg3", "json", "json3", "shields", "shields3"])
                #expect(urls["svg"] == "http://hc.test" + fixture.tagPath(tag, "svg", threeState: false))
                #expect(urls["shields3"] == "http://hc.test" + fixture.tagPath(tag, "shields", threeState: true))
                for url in urls.values {
                    #expect(url.hasPrefix("http://hc.test/badge/"))
                    let (head, _) = try await Self.get(client, String(url.dropFirst("http://hc.test".count)))
                    #expect(head.status == .ok, "\(url)")
                }
            }
            #expect(badges["a+b"]?["json"]?.hasSuffix("/a%2Bb.json") == true)
            let web = try await client.execute(uri: "/api/v3/badges/", method: .get, headers: [.xAPIKey: "web-read-write-key-0001"]) { response in
                try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: [String: Any]])
            }
            #expect(Set(web["badges"].map { Array($0.keys) } ?? []) == ["*", "prod"])
            try await client.execute(uri: "/api/v3/badges/", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v3/badges/", method: .post, headers: Self.ro) { #expect($0.status == .methodNotAllowed) }

            // A check's document carries its two-state SVG badge, as Healthchecks' `badge_url`.
            let uuid = try fixture.uuid("ops/backup")
            let check = try await client.execute(uri: "/api/v3/checks/\(uuid.uuidString.lowercased())", method: .get, headers: Self.ro) { response in
                try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            }
            let expected = "http://hc.test" + (try fixture.checkPath("ops/backup", states: 2, "svg"))
            #expect(check["badge_url"] as? String == expected)
        }
    }

    @Test("the secret is generated once into the data directory (0600) and kept: badge URLs survive a restart")
    func secretKept() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-badges-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let clock = ManualClock(at: t0)
        let first = try await TestApplication(root: root, yaml: Self.yaml, clock: clock.clock)
        let key = first.application.api.badges.badgeKey(project: "ops")
        let sig = first.application.api.badges.signature(badgeKey: key, tag: "prod")
        let badge = first.application.api.badges.checkBadge(try #require(first.uuid("ops/backup")))
        let path = root + "/data/" + BadgeSecret.fileName
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let secret = try String(contentsOfFile: path, encoding: .utf8)
        #expect(secret.count == 44 && secret.hasSuffix("\n"))
        first.close()
        first.runtime.lock?.release()

        let second = try await TestApplication(root: root, yaml: Self.yaml, clock: clock.clock)
        defer { second.close() }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == secret)
        #expect(second.application.api.badges.badgeKey(project: "ops") == key)
        #expect(second.application.api.badges.signature(badgeKey: key, tag: "prod") == sig)
        let application = Application(responder: second.application.responder(scheme: "http"))
        try await application.test(.router) { client in
            let (tagged, _) = try await Self.get(client, "/badge/\(key)/\(sig)/prod.svg")
            let (check, _) = try await Self.get(client, "/b/2/\(badge).json")
            #expect(tagged.status == .ok && check.status == .ok)
        }
        // Another data directory has another secret: none of these URLs answer there.
        #expect(BadgeSigner(secret: BadgeSecret.generated()).badgeKey(project: "ops") != key)
    }

    @Test("on PostgreSQL the secret is one row of kiothc_settings: every instance serves the same badge URLs", .timeLimit(.minutes(2)))
    func sharedSecret() async throws {
        guard let store = try await SharedStoreTests.database() else { return }
        let rootA = SharedStoreTests.root()
        let rootB = SharedStoreTests.root()
        defer {
            try? FileManager.default.removeItem(atPath: rootA)
            try? FileManager.default.removeItem(atPath: rootB)
        }
        try await RunningRuntime.run(root: rootA, yaml: Self.yaml, clock: ManualClock(at: t0), store: store) { a in
            try await RunningRuntime.run(root: rootB, yaml: Self.yaml, clock: ManualClock(at: t0), store: store) { b in
                let signerA = a.app.application.api.badges
                let signerB = b.app.application.api.badges
                let key = signerA.badgeKey(project: "ops")
                #expect(signerB.badgeKey(project: "ops") == key)
                #expect(signerB.signature(badgeKey: key, tag: "prod") == signerA.signature(badgeKey: key, tag: "prod"))
                #expect(!FileManager.default.fileExists(atPath: rootA + "/data/" + BadgeSecret.fileName))
                let path = "/badge/\(key)/\(signerA.signature(badgeKey: key, tag: "prod"))/prod.json"
                try await Application(responder: b.app.application.responder(scheme: "http")).test(.router) { client in
                    let (head, _) = try await Self.get(client, path)
                    #expect(head.status == .ok)
                }
            }
        }
    }

    @Test("a secret file that holds no secret stops the start, saying what to do")
    func badSecret() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-badges-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
        try Data("short\n".utf8).write(to: URL(fileURLWithPath: root + "/data/" + BadgeSecret.fileName))
        do {
            _ = try await TestApplication(root: root, yaml: Self.yaml, clock: ManualClock(at: t0).clock)
            Issue.record("started with a broken badge secret")
        } catch {
            #expect("\(error)".contains("badge secret file") && "\(error)".contains("delete it"))
        }
    }
}

/// The pure renderer and signer.
@Suite("Badge rendering")
struct BadgeRendererTests {
    @Test("tallies as Healthchecks: down wins, grace is late only in three states, new and paused are up")
    func tally() {
        let statuses: [CheckView.Status] = [.up, .new, .paused, .grace]
        #expect(BadgeTally(statuses).status(threeState: true) == .late)
        #expect(BadgeTally(statuses).status(threeState: false) == .up)
        #expect(BadgeTally(statuses + [.down]).status(threeState: true) == .down)
        #expect(BadgeTally(statuses + [.down]) == BadgeTally(total: 5, grace: 1, down: 1))
        #expect(BadgeTally([CheckView.Status]()).status(threeState: true) == .up)
        #expect(BadgeRenderer.json(BadgeTally(total: 2, grace: 1), threeState: true).rendered() == #"{"status": "late", "total": 2, "grace": 1, "down": 0}"#)
        #expect(BadgeRenderer.shields(label: "db", .down).rendered() == #"{"schemaVersion": 1, "label": "db", "message": "down", "color": "critical"}"#)
    }

    @Test("the SVG: widths follow the text, the label is escaped, the colour is the status's")
    func svg() throws {
        let svg = BadgeRenderer.svg(label: "a&b", .up)
        #expect(svg.contains(">a&amp;b</text>") && !svg.contains(">a&b<"))
        #expect(svg.contains("fill=\"#4c1\""))
        // "a&b" 7+7+7, "up" 7+7, each plus 10.
        #expect(svg.contains("width=\"55\""))
        #expect(BadgeRenderer.textWidth("mil") < BadgeRenderer.textWidth("www"))
        // Well-formed XML.
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse())
    }

    @Test("signatures: 8 URL-safe characters, per key and tag; badge UUIDs are UUIDs and hide the ping UUID")
    func signer() {
        let signer = BadgeSigner(secret: BadgeSecret("a-secret-for-tests-0123456789"))
        let key = signer.badgeKey(project: "ops")
        #expect(UUID(uuidString: key)?.uuidString.lowercased() == key)
        let sig = signer.signature(badgeKey: key, tag: "prod")
        #expect(sig.count == 8 && sig.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(signer.verifies(sig, badgeKey: key, tag: "prod") && signer.verifies(sig + "-2", badgeKey: key, tag: "prod"))
        #expect(!signer.verifies(sig, badgeKey: key, tag: "prod2") && !signer.verifies(String(sig.prefix(7)), badgeKey: key, tag: "prod"))
        #expect(signer.signature(badgeKey: key, tag: "db") != sig)
        let check = UUID()
        let badge = signer.checkBadge(check)
        #expect(UUID(uuidString: badge)?.uuidString.lowercased() == badge && badge != check.uuidString.lowercased())
        #expect(BadgeSigner(secret: BadgeSecret("another-secret-for-tests-0123")).checkBadge(check) != badge)
    }
}
