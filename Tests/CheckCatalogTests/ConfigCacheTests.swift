import Foundation
import Monitoring
import Testing

@testable import CheckCatalog

@Suite("Decoded config cache")
struct ConfigCacheTests {
    /// Every field a check can have, in files of checks (cached) beside a file of projects and
    /// one with a warning (both parsed every time).
    static let files = [
        "projects.yaml": """
            projects:
              ops:
                defaults: {grace: 30m, tz: Europe/Riga, tags: [prod], channels: [hook]}
                channels:
                  hook: {kind: webhook, url: "https://example.com/h"}
                  other: {kind: command, command: "true"}
                maintenance: [{schedule: "0 0 * * 0", duration: 1m}]
              dev: {}
            """,
        "ops/a.yaml": """
            project: ops
            checks:
              backup:
                name: Nightly backup ✓
                schedule: "30 2 * * *"
                tz: America/New_York
                grace: 2h
                tags: [db, nightly]
                desc: "Dumps the database;\\nthen uploads it"
                methods: POST
                manual_resume: true
                channels: [hook, other]
                uuid: 5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b
                maintenance:
                  - {schedule: "Sat *-*-* 22:00", duration: 30m, tz: UTC, reason: patching}
                  - {from: 2026-12-24T18:00, until: 2026-12-27T08:00:00+02:00}
                  - {from: "2027-01-01T00:00:00Z", until: "2027-01-01T06:00:00-05:30"}
              report: {timeout: 6h, depends_on: [backup, dev/build], slug: daily-report, paused: true}
              bare:
              all: {channels: "*", tags: "a b", grace: 90s}
            """,
        "ops/b.yaml": """
            checks:
              build: {project: dev, schedule: "Mon..Fri *-*-* 05:00", methods: "", channels: []}
              other: {project: ops, timeout: 1w, manual_resume: false}
            """,
        "warned.yaml": """
            checks:
              noisy: {project: dev, timeout: 1h, desc: unusual}
              dup: {project: dev}
              dup: {project: dev}
            """,
    ]

    /// What a load produced, every field a person or the server could tell apart.
    static func summary(_ result: LoadResult) -> [String] {
        result.catalog.checks.map { check in
            let settings = check.settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            let windows = check.maintenance.windows.map { "\($0)" }.joined(separator: ";")
            return "\(check.id) '\(check.name)' \(check.slug) \(check.location) pin=\(check.pinnedUUID?.uuidString ?? "-") [\(settings)] [\(windows)]"
        } + result.catalog.projects.map { "project \($0.id) \($0.channels.map(\.name)) \($0.maintenance.count)" }
            + result.diagnostics.map { "\($0.severity) \($0.location) \($0.message)" }
    }

    /// The cache that loading `config` with a fresh `ParsedFiles` leaves, for `build`.
    static func persisted(_ config: TempConfig, build: String = "test build") throws -> (LoadResult, [UInt8]) {
        let parsed = ParsedFiles()
        let result = try ConfigLoader.load(directory: config.path, reusing: parsed)
        #expect(parsed.hasChanged)
        let bytes = parsed.persisted(build: build)
        #expect(!parsed.hasChanged)
        return (result, bytes)
    }

    static func restored(_ bytes: [UInt8], build: String = "test build") throws -> ParsedFiles {
        guard case .restored(let parsed) = ParsedFiles.restoring(bytes, build: build) else {
            Issue.record("the cache was not restored")
            throw CancellationError()
        }
        return parsed
    }

    @Test("files of checks read back from the cache load to exactly what their YAML does; files of projects or with problems are parsed")
    func roundTrip() throws {
        let config = try TempConfig(Self.files)
        let (first, bytes) = try Self.persisted(config)
        #expect(first.errorCount == 1, "the duplicate in warned.yaml: \(Self.summary(first))")
        #expect(first.catalog.checks.count == 8)

        let parsed = try Self.restored(bytes)
        let second = try ConfigLoader.load(directory: config.path, reusing: parsed)
        #expect(Self.summary(second) == Self.summary(first))
        #expect(Self.summary(second) == Self.summary(try config.load()))
        #expect(parsed.counts == (restored: 2, parsed: 2), "ops/a.yaml and ops/b.yaml read back; projects.yaml and warned.yaml parsed")
        #expect(!parsed.hasChanged, "nothing new to write")
        #expect(second.configDigest == first.configDigest)

        // A restored entry is kept decoded: a reload reuses it without reading it again.
        let reload = try ConfigLoader.load(directory: config.path, reusing: parsed)
        #expect(Self.summary(reload) == Self.summary(first))
        #expect(parsed.counts == (restored: 2, parsed: 2), "nothing parsed or read back again")
    }

    @Test("a changed, added or removed file is parsed and makes the cache worth writing again; the rest is read back")
    func changedFiles() throws {
        let config = try TempConfig(Self.files)
        let (_, bytes) = try Self.persisted(config)
        try config.write("ops/b.yaml", "checks:\n  build: {project: dev, timeout: 2h}\n")
        try config.write("ops/c.yaml", "checks:\n  extra: {project: ops}\n")
        try FileManager.default.removeItem(atPath: config.path + "/ops/a.yaml")
        let parsed = try Self.restored(bytes)
        let result = try ConfigLoader.load(directory: config.path, reusing: parsed)
        #expect(Self.summary(result) == Self.summary(try config.load()))
        #expect(parsed.counts == (restored: 0, parsed: 4))
        #expect(parsed.hasChanged)
        let next = try Self.restored(parsed.persisted(build: "test build"))
        #expect(Self.summary(try ConfigLoader.load(directory: config.path, reusing: next)) == Self.summary(result))
        #expect(next.counts == (restored: 2, parsed: 2))
    }

    @Test("a cache of another build or format, a foreign file or a cut one is not used; none of them is trusted to have checks")
    func unusable() throws {
        let config = try TempConfig(Self.files)
        let (_, bytes) = try Self.persisted(config)
        func reason(_ bytes: [UInt8], build: String = "test build") -> String? {
            if case .ignored(let reason) = ParsedFiles.restoring(bytes, build: build) { return reason }
            return nil
        }
        #expect(reason(bytes, build: "another build") == "another build wrote it")
        #expect(reason(Array("checks:\n  a: {}\n".utf8)) == "it is not a kiothc config cache")
        var version = bytes
        version[ParsedFiles.magic.count] = 9
        #expect(reason(version) == "it is format 9; this build reads 1")
        #expect(reason(bytes + [0]) == "it has bytes after its last file")
        // Cut anywhere inside the table of files: refused whole, never a crash.
        for length in stride(from: ParsedFiles.magic.count, to: bytes.count, by: max(1, bytes.count / 200)) {
            #expect(reason(Array(bytes[..<length])) != nil, "cut at \(length) of \(bytes.count)")
        }
    }

    @Test("an entry whose bytes were damaged is parsed from its YAML instead, and written again")
    func damagedEntry() throws {
        let config = try TempConfig(Self.files)
        let (first, bytes) = try Self.persisted(config)
        // The name is in ops/a.yaml's entry: one byte of it changed.
        let name = Array("Nightly backup".utf8)
        let at = try #require(bytes.indices.first { bytes[$0...].starts(with: name) })
        var damaged = bytes
        damaged[at] = UInt8(ascii: "X")
        let parsed = try Self.restored(damaged)
        let result = try ConfigLoader.load(directory: config.path, reusing: parsed)
        #expect(Self.summary(result) == Self.summary(first))
        #expect(result.catalog.check(CheckIdentity(project: "ops", key: "backup"))?.name == "Nightly backup ✓")
        #expect(parsed.counts == (restored: 1, parsed: 3))
        #expect(parsed.hasChanged, "the damaged entry is replaced at the next write")
    }

    @Test("a draft's bytes cut short or followed by more, with a checksum that matches, are refused, never read as checks")
    func malformedPayloads() throws {
        let config = try TempConfig(Self.files)
        let path = config.path + "/ops/a.yaml"
        let (draft, diagnostics) = ConfigLoader.loadFile(path, limits: .standard)
        #expect(diagnostics.isEmpty && DraftCodec.isCacheable((draft, diagnostics)))
        let payload = DraftCodec.encoded(draft)
        func read(_ bytes: [UInt8]) -> FileDraft? {
            DraftCodec.read(bytes[...], checksum: ContentHash.of(bytes), path: path, schedules: ScheduleCache())
        }
        #expect(read(payload)?.checks.map(\.key) == draft.checks.map(\.key))
        #expect(DraftCodec.read(payload[...], checksum: ContentHash.of(payload) ^ 1, path: path, schedules: ScheduleCache()) == nil)
        for length in 0..<payload.count {
            #expect(read(Array(payload[..<length])) == nil, "cut at \(length)")
        }
        #expect(read(payload + [0]) == nil)
    }

    @Test("only files of checks without diagnostics, whose every location is their own, are cacheable")
    func cacheable() throws {
        let config = try TempConfig(Self.files)
        for (name, expected) in ["projects.yaml": false, "ops/a.yaml": true, "ops/b.yaml": true, "warned.yaml": false] {
            let decoded = ConfigLoader.loadFile(config.path + "/" + name, limits: .standard)
            #expect(DraftCodec.isCacheable(decoded) == expected, "\(name)")
        }
        var (draft, _) = ConfigLoader.loadFile(config.path + "/ops/a.yaml", limits: .standard)
        draft.checks[0].dependsOn.append(Dependency(project: nil, key: "x", text: "x", location: Diagnostic.Location(file: "elsewhere", line: 1, column: 1)))
        #expect(!DraftCodec.isCacheable((draft, [])))
    }
}
