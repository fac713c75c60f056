import Foundation
import Testing

@testable import PingStore

@Suite("catalog.json")
struct AppliedCatalogTests {
    static let backup = AppliedCatalog.Check(
        uuid: UUID(uuidString: "6F9619FF-8B86-4011-B42D-00C04FC964FF")!, project: "ops", key: "db-backup",
        name: "Database \"Backup\" \\ nightly\nCafé ☕", slug: "database-backup-nightly-cafe",
        settings: ["schedule": "0 3 * * *", "tz": "Europe/Riga", "desc": "tab\there\u{1}", "tags": "prod db", "channels": "*"])
    static let worker = AppliedCatalog.Check(
        uuid: UUID(uuidString: "00000000-0000-4000-8000-000000000001")!, project: "default", key: "worker", name: "worker", slug: "worker",
        settings: [:])

    @Test("saved a check at a time, the file is byte for byte what encoded() gives: several parts, one, and none")
    func streamed() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let path = AppliedCatalog.path(in: dir.data)
            // ~3 MB of lines: the parts of 1 MB end in the middle of the list.
            let many = (0..<12_000).map { n in
                AppliedCatalog.Check(
                    uuid: UUID(), project: n % 3 == 0 ? "api" : "ops", key: String(format: "job-%05d", n), name: "Job \(n) Café",
                    slug: "job-\(n)-cafe", settings: ["timeout": "1h", "grace": "5m", "tags": "a b", "desc": String(repeating: "x", count: 100)])
            }.sorted { $0.identity < $1.identity }
            let source = AppliedCatalog.Source(config: 0x0123_4567_89ab_cdef, registry: 7)
            for (checks, source) in [(many, source), ([Self.worker], nil), ([], source)] {
                let whole = AppliedCatalog(checks: checks, appliedAt: 42, source: source)
                try AppliedCatalog.save(checks.lazy.map { $0 }, appliedAt: 42, source: source, to: dir.data)
                let written = try Data(contentsOf: URL(fileURLWithPath: path))
                #expect(written == Data(whole.encoded()), "\(checks.count) checks")
                #expect(try AppliedCatalog.load(from: dir.data) == whole)
            }
            // No temporary file is left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.data.path).filter { $0.contains(".tmp") }.isEmpty)
        }
    }

    @Test("a saved snapshot loads back equal, escapes and all, with one check per line")
    func roundTrip() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let snapshot = AppliedCatalog(checks: [Self.backup, Self.worker], appliedAt: 1_732_700_000_000_000)
            try snapshot.save(to: dir.data)
            #expect(try AppliedCatalog.load(from: dir.data) == snapshot)
            let text = try #require(String(data: Data(contentsOf: URL(fileURLWithPath: AppliedCatalog.path(in: dir.data))), encoding: .utf8))
            #expect(text.contains(#""uuid":"6f9619ff-8b86-4011-b42d-00c04fc964ff""#), "UUIDs are lower case as in URLs")
            #expect(text.split(separator: "\n").count == 8, "{, applied_us, checks: [, two checks, ], v, }")
            // Any JSON reader takes it, not only ours.
            let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            #expect((parsed?["checks"] as? [Any])?.count == 2)
        }
    }

    @Test("what a snapshot was written from is read from its first lines alone, and round-trips; none without it")
    func source() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            #expect(try AppliedCatalog.source(in: dir.data) == nil, "no snapshot")
            let source = AppliedCatalog.Source(config: 0x00ff_0000_0000_0001, registry: .max)
            let snapshot = AppliedCatalog(checks: [Self.backup, Self.worker], appliedAt: 9, source: source)
            try snapshot.save(to: dir.data)
            #expect(try AppliedCatalog.source(in: dir.data) == source)
            #expect(try AppliedCatalog.load(from: dir.data) == snapshot)
            let path = AppliedCatalog.path(in: dir.data)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.contains("  \"config_digest\" : \"00ff000000000001\",\n  \"registry_digest\" : \"ffffffffffffffff\",\n"))
            // Still JSON any reader takes (an older server reads it as any JSON: the digests are
            // fields it does not know).
            let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            #expect((parsed?["checks"] as? [Any])?.count == 2)

            // Without them (written before 0.25), or with a damaged one, there is no source.
            try AppliedCatalog(checks: [Self.worker], appliedAt: 9).save(to: dir.data)
            #expect(try AppliedCatalog.source(in: dir.data) == nil)
            for damaged in ["00ff00000000001", "00ff00000000000g", "00ff0000000000011"] {
                try Data(text.replacingOccurrences(of: "00ff000000000001", with: damaged).utf8).write(to: URL(fileURLWithPath: path))
                #expect(try AppliedCatalog.source(in: dir.data) == nil, "\(damaged)")
            }
        }
    }

    @Test("an empty catalog round-trips")
    func empty() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let snapshot = AppliedCatalog(checks: [], appliedAt: 5)
            try snapshot.save(to: dir.data)
            #expect(try AppliedCatalog.load(from: dir.data) == snapshot)
        }
    }

    @Test("a snapshot written by an older server (Foundation's pretty printer) still loads")
    func olderFormat() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let old = """
                {
                  "applied_us" : 7,
                  "checks" : [
                    {
                      "key" : "worker",
                      "name" : "worker",
                      "project" : "default",
                      "settings" : {

                      },
                      "slug" : "worker",
                      "uuid" : "00000000-0000-4000-8000-000000000001"
                    }
                  ],
                  "v" : 1
                }

                """
            try Data(old.utf8).write(to: URL(fileURLWithPath: AppliedCatalog.path(in: dir.data)))
            #expect(try AppliedCatalog.load(from: dir.data) == AppliedCatalog(checks: [Self.worker], appliedAt: 7))
        }
    }

    @Test("a snapshot rewritten on one line by a JSON tool still loads; a damaged line is an error naming the file")
    func otherLayoutAndDamage() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let snapshot = AppliedCatalog(checks: [Self.backup, Self.worker], appliedAt: 9)
            let path = AppliedCatalog.path(in: dir.data)
            let object = try JSONSerialization.jsonObject(with: Data(snapshot.encoded()))
            try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
            #expect(try AppliedCatalog.load(from: dir.data) == snapshot)

            let text = String(decoding: snapshot.encoded(), as: UTF8.self)
            for damaged in [
                text.replacingOccurrences(of: "\"settings\":{}", with: "\"settings\":{\"grace\":60}"),
                text.replacingOccurrences(of: "\"slug\":\"worker\",", with: ""),
                text.replacingOccurrences(of: "\"settings\":{}", with: "\"settings\":[]"),
            ] {
                #expect(damaged != text)
                try Data(damaged.utf8).write(to: URL(fileURLWithPath: path))
                do {
                    _ = try AppliedCatalog.load(from: dir.data)
                    Issue.record("a damaged snapshot must not load")
                } catch let error as StoreError {
                    #expect(error.kind == .corrupt)
                    #expect(error.description.contains("catalog.json"), "\(error)")
                }
            }
        }
    }
}
