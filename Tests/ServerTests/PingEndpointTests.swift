import CheckCatalog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Monitoring
import PingStore
import Synchronization
import Testing
@testable import Runtime
@testable import Server

/// The ping path against a real store in a temporary directory, through Hummingbird's router
/// test client; the clock is a value the test sets.
@Suite("Ping endpoint")
struct PingEndpointTests {
    final class Fixture: Sendable {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-endpoint-\(UUID().uuidString)")
        let faults = FaultInjector()
        let clock = ManualClock(at: 1_800_000_000_000_000)
        let app: TestApplication
        let uuid: UUID

        init(yaml: String = "projects:\n  default: {ping_key: test-ping-key}\nchecks:\n  backup: {name: Backup}\n") async throws {
            app = try await TestApplication(
                root: root.path, yaml: yaml, durability: .fsync, faults: faults, clock: clock.clock, maxRequestBody: 100)
            uuid = try #require(app.runtime.catalog.snapshot.entries.first?.uuid)
        }

        var store: PingStore { app.runtime.files!.pingStore }
        var states: CheckStates { app.runtime.states }

        var application: some ApplicationProtocol {
            Application(responder: app.application.responder(scheme: "http"))
        }

        deinit {
            app.close()
            try? FileManager.default.removeItem(at: root)
        }
    }

    @Test("a ping the store cannot take gets 503 and changes nothing; the store recovers and the next ping is 200")
    func storeFailure() async throws {
        let fixture = try await Fixture()
        let path = "/ping/\(fixture.uuid.uuidString.lowercased())"
        try await fixture.application.test(.router) { client in
            fixture.faults.fail(.journalSync, with: ENOSPC)
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
            }
            #expect(fixture.states.state(of: fixture.uuid) == .new)
            fixture.faults.heal()
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "OK")
            }
        }
        let state = fixture.states.state(of: fixture.uuid)
        #expect(state.nPings == 1)
        #expect(state.status == .up)
        let stored = try fixture.store.pings(of: fixture.uuid, limit: 10)
        #expect(stored.map(\.kind) == [.success])
    }

    @Test("concurrent pings of one check reach its file in the order they were numbered")
    func appendOrder() async throws {
        let fixture = try await Fixture()
        let path = "/ping/\(fixture.uuid.uuidString.lowercased())"
        try await fixture.application.test(.router) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        try await client.execute(uri: index % 3 == 0 ? "\(path)/fail" : path, method: .get) { #expect($0.status == .ok) }
                    }
                }
                try await group.waitForAll()
            }
        }
        let file = fixture.root.appendingPathComponent("data/pings/\(fixture.uuid.uuidString.lowercased()).jsonl")
        let numbers = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["n"] as? Int
        }
        #expect(numbers == Array(1...300))
    }

    @Test("start then success with the same rid stores the run's duration, from the injected clock")
    func duration() async throws {
        let fixture = try await Fixture()
        let rid = "0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c"
        let base = "/ping/\(fixture.uuid.uuidString.lowercased())"
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "\(base)/start?rid=\(rid)", method: .post) { #expect($0.status == .ok) }
            fixture.clock.advance(by: 90_000_000)
            try await client.execute(uri: "\(base)/0?rid=\(rid)", method: .post, body: ByteBuffer(string: "done")) { #expect($0.status == .ok) }
        }
        let stored = try fixture.store.pings(of: fixture.uuid, limit: 10)
        #expect(stored.first?.duration == 90_000_000)
        #expect(stored.first?.exitStatus == 0)
        #expect(stored.first?.body == "done")
        #expect(fixture.states.state(of: fixture.uuid).started == false)
    }

    @Test("a rid in upper case is the same run as in lower case; a rid that is no UUID is a 400 and nothing is stored")
    func ridForms() async throws {
        let fixture = try await Fixture()
        let base = "/ping/\(fixture.uuid.uuidString.lowercased())"
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "\(base)/start?rid=0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c", method: .get) { #expect($0.status == .ok) }
            fixture.clock.advance(by: 5_000_000)
            try await client.execute(uri: "\(base)?rid=0B0E4A5E-3F2C-4C8E-9A21-5D1F6E7A8B9C", method: .get) { #expect($0.status == .ok) }
            for bad in ["x", "0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9", "0b0e4a5e3f2c4c8e9a215d1f6e7a8b9c00000", "0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9g"] {
                try await client.execute(uri: "\(base)?rid=\(bad)", method: .get) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body) == "invalid uuid format")
                }
            }
        }
        let stored = try fixture.store.pings(of: fixture.uuid, limit: 10)
        #expect(stored.count == 2)
        #expect(stored.first?.duration == 5_000_000)
        #expect(stored.first?.rid == UUID(uuidString: "0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c"))
    }

    @Test("a body over --max-request-body is refused with 413, announced or streamed, and nothing is stored")
    func tooLarge() async throws {
        let fixture = try await Fixture()
        let path = "/ping/\(fixture.uuid.uuidString.lowercased())"
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: path, method: .post, body: ByteBuffer(string: String(repeating: "x", count: 101))) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body) == "payload too large")
            }
            try await client.execute(uri: path, method: .post, body: ByteBuffer(string: String(repeating: "x", count: 100))) { response in
                #expect(response.status == .ok)
            }
        }
        #expect(try fixture.store.pings(of: fixture.uuid, limit: 10).count == 1)
    }

    @Test("a non-UTF-8 body is not stored, its size is")
    func binaryBody() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            var buffer = ByteBuffer()
            buffer.writeBytes([0xFF, 0xFE, 0xFD])
            try await client.execute(uri: "/ping/\(fixture.uuid.uuidString.lowercased())", method: .post, body: buffer) { #expect($0.status == .ok) }
        }
        let stored = try #require(try fixture.store.pings(of: fixture.uuid, limit: 1).first)
        #expect(stored.body == nil)
        #expect(stored.bodySize == 3)
    }

    @Test("X-Forwarded-For and X-Forwarded-Proto are recorded as Healthchecks records them")
    func forwarded() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            try await client.execute(
                uri: "/ping/test-ping-key/backup", method: .get,
                headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9:5123, 10.0.0.1", HTTPField.Name("X-Forwarded-Proto")!: "https"]
            ) { #expect($0.status == .ok) }
        }
        let stored = try #require(try fixture.store.pings(of: fixture.uuid, limit: 1).first)
        #expect(stored.remoteAddress == "203.0.113.9")
        #expect(stored.scheme == "https")
    }
}
