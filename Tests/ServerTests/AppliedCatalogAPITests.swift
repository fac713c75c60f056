import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Runtime
@testable import Server

/// `GET /api/v3/catalog/`: what the server applied, for `kiothc plan --server` (SPEC §16).
@Suite("Applied catalog API")
struct AppliedCatalogAPITests {
    static let yaml = ManagementAPITests.yaml + """

          pinned:
            project: ops
            name: Pinned Job
            uuid: 5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b
        """

    @Test("a read-write key gets each check of its project with UUID, name, slug, pinned and settings, and the serving config's hash")
    func readWrite() async throws {
        let fixture = try await ManagementAPITests.Fixture(yaml: Self.yaml)
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/api/v3/catalog/", method: .get, headers: ManagementAPITests.rw) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let document = try ManagementAPITests.json(response.body)
                #expect(document["version"] as? Int == 1)
                let config = try #require(document["config"] as? [String: Any])
                #expect(config["hash"] as? String == ConfigFingerprint.hex(fixture.status.snapshot.servingHash))
                #expect(config["applied_us"] as? Int64 == fixture.status.snapshot.lastSuccess)
                #expect(config["applied_at"] as? String == "2023-11-14T22:13:20+00:00")
                #expect(document["projects"] as? [String] == ["ops"])
                let checks = try #require(document["checks"] as? [[String: Any]])
                // The key's project only, in key order.
                #expect(checks.map { $0["key"] as? String } == ["db-backup", "pinned", "queue"])
                #expect(checks.allSatisfy { $0["project"] as? String == "ops" && $0["unique_key"] == nil })
                let backup = checks[0]
                #expect(backup["name"] as? String == "Database Backup")
                #expect(backup["slug"] as? String == "database-backup")
                #expect(backup["uuid"] as? String == fixture.uuid("db-backup"))
                #expect(backup["pinned"] as? Bool == false)
                let settings = try #require(backup["settings"] as? [String: String])
                #expect(settings["schedule"] == "0 3 * * *")
                #expect(settings["tz"] == "Europe/Riga")
                #expect(settings["tags"] == "prod db")
                #expect(settings["timeout"] == nil)
                #expect(checks[1]["uuid"] as? String == "5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b")
                #expect(checks[1]["pinned"] as? Bool == true)
                #expect((checks[2]["settings"] as? [String: String])?["timeout"] == "5m")
            }
        }
    }

    @Test("a read-only key gets unique_key in place of every UUID: it cannot learn a ping URL")
    func readOnly() async throws {
        let fixture = try await ManagementAPITests.Fixture(yaml: Self.yaml)
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/api/v3/catalog/", method: .get, headers: ManagementAPITests.ro) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                for key in ["db-backup", "queue", "pinned"] { #expect(!text.contains(fixture.uuid(key))) }
                let checks = try #require(try ManagementAPITests.json(response.body)["checks"] as? [[String: Any]])
                #expect(checks.count == 3)
                #expect(checks.allSatisfy { $0["uuid"] == nil })
                let uniqueKeys = checks.map { $0["unique_key"] as? String }
                let expected = ["db-backup", "pinned", "queue"].map { CheckView.uniqueKey(UUID(uuidString: fixture.uuid($0))!) }
                #expect(uniqueKeys == expected)
                #expect(checks[1]["pinned"] as? Bool == true)
            }
        }
    }

    @Test("no key, a wrong key and another method are refused as on every API route")
    func refused() async throws {
        let fixture = try await ManagementAPITests.Fixture(yaml: Self.yaml)
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/api/v3/catalog/", method: .get) { response in
                #expect(response.status == .unauthorized)
                let error = try ManagementAPITests.json(response.body)["error"] as? String
                #expect(error == "missing api key")
            }
            try await client.execute(uri: "/api/v3/catalog/", method: .get, headers: [.xAPIKey: "not-a-key"]) { response in
                #expect(response.status == .unauthorized)
                let error = try ManagementAPITests.json(response.body)["error"] as? String
                #expect(error == "wrong api key")
            }
            try await client.execute(uri: "/api/v3/catalog/", method: .post, headers: ManagementAPITests.rw) { response in
                #expect(response.status == .methodNotAllowed)
            }
        }
    }
}
