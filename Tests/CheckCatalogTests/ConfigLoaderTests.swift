import Foundation
import Glibc
import Monitoring
import Testing
import TestSupport
@testable import CheckCatalog

/// A temporary config directory, removed when the test ends.
final class TempConfig: Sendable {
    let path: String

    init(_ files: [String: String]) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-test-\(UUID().uuidString)").path
        for (name, text) in files {
            try write(name, text)
        }
        if files.isEmpty { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    }

    func write(_ name: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func load() throws -> LoadResult { try ConfigLoader.load(directory: path) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite("Config loading")
struct ConfigLoaderTests {
    @Test("defaults: name is the key, timeout 1d, grace 1h, tz UTC, project default, every channel")
    func defaults() throws {
        let config = try TempConfig(["a.yaml": "checks:\n  nightly-job:\n"])
        let result = try config.load()
        #expect(result.diagnostics.isEmpty)
        let check = try #require(result.catalog.check(.init(project: "default", key: "nightly-job")))
        #expect(check.name == "nightly-job")
        #expect(check.slug == "nightly-job")
        guard case .timeout(let seconds) = check.expectation else {
            Issue.record("expected a timeout check")
            return
        }
        #expect(seconds == 86_400)
        #expect(check.grace == 3_600)
        #expect(check.tz == "UTC")
        #expect(check.methods == .any)
        #expect(check.channels == .all)
        #expect(!check.paused && !check.manualResume)
        #expect(result.catalog.projects.map(\.id) == ["default"])
    }

    @Test("a check's project: its own, else its file's, else default; project defaults lie under its values")
    func projectsAndDefaults() throws {
        let config = try TempConfig([
            "projects.yaml": """
                projects:
                  ops:
                    name: Operations
                    defaults: {grace: 30m, tz: Europe/Riga, tags: [prod], methods: POST, channels: [hook]}
                    channels:
                      hook: {kind: webhook, url: "https://example.com/h"}
                      other: {kind: command, command: "true"}
                  dev:
                """,
            "ops.yaml": """
                project: ops
                checks:
                  a: {timeout: 2h}
                  b: {grace: 5m, tz: UTC, tags: x y, channels: "*"}
                  c: {project: dev}
                """,
        ])
        let result = try config.load()
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.message))")
        let a = try #require(result.catalog.check(.init(project: "ops", key: "a")))
        #expect(a.grace == 1_800)
        #expect(a.tz == "Europe/Riga")
        #expect(a.tags == ["prod"])
        #expect(a.methods == .post)
        #expect(a.channels == .named(["hook"]))
        let b = try #require(result.catalog.check(.init(project: "ops", key: "b")))
        #expect(b.grace == 300)
        #expect(b.tz == "UTC")
        #expect(b.tags == ["x", "y"])
        #expect(b.channels == .all)
        #expect(result.catalog.check(.init(project: "dev", key: "c")) != nil)
        #expect(result.catalog.projects.map(\.id) == ["dev", "ops"])
        #expect(result.catalog.project("ops")?.name == "Operations")
    }

    @Test("durations: integers are seconds; strings are unit parts")
    func durations() {
        let cases: [(String, Int?)] = [
            ("90s", 90), ("1h30m", 5_400), ("7d", 604_800), ("2w", 1_209_600), ("1d1h1m1s", 90_061), (" 5m ", 300),
            ("90", nil), ("1.5h", nil), ("h", nil), ("5 minutes", nil), ("", nil), ("-5m", nil), ("99999999999999999999w", nil),
            // Read from the bytes or, for anything unusual, character by character: the same.
            ("0s", 0), ("10m5s", 605), ("1w1d", 691_200), ("1m1m", 120), ("007m", 420), ("9223372036854775807s", Int.max),
            ("9223372036854775807m", nil), ("١h", nil), ("5M", nil), ("5m5", nil), ("m5", nil), ("5mm", nil),
        ]
        for (text, expected) in cases {
            switch DurationSyntax.parse(text) {
            case .success(let seconds): #expect(seconds == expected, "\(text)")
            case .failure(let error):
                #expect(expected == nil, "\(text): \(error.message)")
                #expect(error.message.contains("'"), "\(text): the message quotes the value")
            }
        }
    }

    @Test("a file with ten problems reports ten")
    func tenProblems() throws {
        let fixture = FixtureTests.fixtures.appendingPathComponent("invalid/ten-problems")
        let result = try ConfigLoader.load(directory: fixture.path)
        #expect(result.errorCount == 10)
    }

    @Test("a file with thousands of problems reports the first 100 and says how many more")
    func manyProblems() async throws {
        let config = try TempConfig([:])
        try config.write("many.yaml", "checks:\n  x:\n" + (0..<5_000).map { "    unknown\($0): 1\n" }.joined())
        // A second of work (many under a sanitizer): off the pool the other tests run on.
        let result = try await computeOnOwnThread { try config.load() }
        #expect(result.diagnostics.count == 101)
        #expect(result.diagnostics.prefix(100).allSatisfy { $0.code == .unknownKey })
        let summary = try #require(result.diagnostics.last)
        #expect(summary.code == .tooManyProblems)
        #expect(summary.message.hasPrefix("4900 more problems in this file are not shown (4900 errors)"))
        #expect(!result.isValid)
    }

    @Test("a file over 4 MiB is refused at 1:1 without being parsed")
    func largeFile() throws {
        let config = try TempConfig([:])
        let line = "  c0000000: {timeout: 1h}\n"
        try config.write("big.yaml", "checks:\n" + String(repeating: line, count: 5 * 1024 * 1024 / line.utf8.count))
        let result = try config.load()
        #expect(result.diagnostics.map(\.code) == [.fileTooLarge])
        #expect(result.diagnostics.first?.location.line == 1)
    }

    @Test("files are read recursively in sorted order; dot-names, other extensions and ConfigMap ..data are skipped")
    func directoryScan() throws {
        let config = try TempConfig([
            "b.yaml": "checks: {b: }",
            "a/z.yml": "checks: {z: }",
            "a/c.yaml": "checks: {c: }",
            ".hidden.yaml": "checks: {hidden: }",
            ".git/x.yaml": "checks: {git: }",
            "..data/d.yaml": "checks: {data: }",
            "notes.txt": "not yaml",
        ])
        let files = try ConfigDirectory.yamlFiles(under: config.path)
        #expect(files.map { String($0.dropFirst(config.path.count + 1)) } == ["a/c.yaml", "a/z.yml", "b.yaml"])
        #expect(try config.load().catalog.checks.map(\.id.key) == ["b", "c", "z"])
    }

    @Test("files decoded on several threads give what decoding them one by one gives, in path order")
    func parallelDecoding() throws {
        var files: [String: String] = [:]
        for index in 0..<60 {
            // Every third file has a problem, and the schedules repeat across files (one cache).
            let schedule = ["\"0 3 * * *\"", "daily", "\"61 * * * *\"", "\"*/5 * * * *\""][index % 4]
            files[String(format: "f%02d.yaml", index)] = """
                checks:
                  c\(index): {schedule: \(schedule), tz: \(index % 3 == 0 ? "Europe/Rgia" : "Europe/Riga")}

                """
        }
        let config = try TempConfig(files)
        let paths = try ConfigDirectory.yamlFiles(under: config.path)
        let parallel = ConfigLoader.loadFiles(paths, limits: .standard)
        let serial = paths.map { ConfigLoader.loadFile($0, limits: .standard) }
        #expect(parallel.map(\.0.path) == paths)
        #expect(parallel.map { $0.0.checks.map(\.key) } == serial.map { $0.0.checks.map(\.key) })
        #expect(parallel.map(\.1) == serial.map(\.1))
        let result = try config.load()
        #expect(result.diagnostics.count { $0.code == .invalidSchedule } == 15)
        #expect(result.diagnostics.count { $0.code == .unknownTimezone } == 20)
        #expect(result.diagnostics.map(\.location) == result.diagnostics.map(\.location).sorted())
    }

    @Test("a reload reuses files whose bytes are unchanged and parses the rest; results equal a fresh load")
    func parsedFilesAcrossLoads() throws {
        let config = try TempConfig([
            "a.yaml": "checks:\n  a1: {timeout: 1h}\n  a2: {schedule: '0 3 * * *'}\n",
            "b.yaml": "checks:\n  b1: {timeout: 2h}\n",
            "c.yaml": "checks:\n  c1: {timeout: 3h, tz: Europe/Rgia}\n",
        ])
        let parsed = ParsedFiles()
        func summary(_ result: LoadResult) -> [String] {
            result.catalog.checks.map { "\($0.id) \($0.settings.sorted { $0.key < $1.key })" } + result.diagnostics.map(\.message)
        }
        let first = try ConfigLoader.load(directory: config.path, reusing: parsed)
        #expect(parsed.count == 3)
        #expect(summary(first) == summary(try config.load()))
        let bPath = config.path + "/b.yaml"
        let bBytes = Array(try Data(contentsOf: URL(fileURLWithPath: bPath)))
        #expect(parsed.decoded(bPath, bytes: bBytes) != nil, "unchanged bytes are reused")

        // Same length, other bytes: parsed again.
        try config.write("b.yaml", "checks:\n  b1: {timeout: 3h}\n")
        #expect(parsed.decoded(bPath, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: bPath)))) == nil)
        try FileManager.default.removeItem(atPath: config.path + "/c.yaml")
        try config.write("d.yaml", "checks:\n  d1: {timeout: 4h}\n")
        let second = try ConfigLoader.load(directory: config.path, reusing: parsed)
        #expect(summary(second) == summary(try config.load()))
        #expect(second.catalog.checks.map(\.id.key) == ["a1", "a2", "b1", "d1"])
        #expect(second.catalog.check(CheckIdentity(project: "default", key: "b1"))?.settings["timeout"] == "3h")
        #expect(second.diagnostics.isEmpty, "c.yaml's diagnostics left with it")
        #expect(parsed.count == 3, "the removed file is forgotten")
    }

    @Test("a schedule parsed once serves every check that repeats it; a bad one fails the same way each time")
    func scheduleCache() throws {
        let cache = ScheduleCache()
        let first = try cache.schedule("0 3 * * *")
        #expect(try cache.schedule("0 3 * * *") == first)
        #expect(first == (try Schedule(parsing: "0 3 * * *")))
        #expect(try cache.schedule("0 3 * * 1") != first)
        for _ in 0..<2 {
            #expect(throws: ScheduleError.self) { try cache.schedule("0 3 31 2 *") }
        }
        let direct = Result { () throws(ScheduleError) in try Schedule(parsing: "61 * * * *") }
        let cached = Result { () throws(ScheduleError) in try cache.schedule("61 * * * *") }
        #expect(direct == cached)
        #expect(throws: ScheduleError.self) { try direct.get() }
    }

    @Test("a single file is the whole configuration, whatever its name; a symlink to one too; its diagnostics name it")
    func singleFile() throws {
        let config = try TempConfig(["kiothc.conf": "checks:\n  one: {}\n  two: {scheduel: x}\n", "beside.yaml": "checks: {beside: }"])
        let file = config.path + "/kiothc.conf"
        #expect(try ConfigDirectory.yamlFiles(under: file) == [file])
        let result = try ConfigLoader.load(directory: file)
        #expect(result.catalog.checks.map(\.id.key) == ["one", "two"])
        let error = try #require(result.diagnostics.first { $0.severity == .error })
        #expect(error.location == Diagnostic.Location(file: file, line: 3, column: 9))
        try FileManager.default.createSymbolicLink(atPath: config.path + "/link.yaml", withDestinationPath: "kiothc.conf")
        #expect(try ConfigDirectory.yamlFiles(under: config.path + "/link.yaml") == [config.path + "/link.yaml"])
        #expect(ConfigDirectory.kind(of: file) == .file)
        #expect(ConfigDirectory.kind(of: config.path) == .directory)
    }

    @Test("a path that is neither a directory nor a regular file, or that does not exist, is an error saying what --config takes")
    func neitherFileNorDirectory() throws {
        let config = try TempConfig([:])
        let fifo = config.path + "/config.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        for path in [fifo, "/dev/null"] {
            #expect(ConfigDirectory.kind(of: path) == .other)
            #expect(throws: ConfigDirectoryError.self) { try ConfigDirectory.yamlFiles(under: path) }
            do {
                _ = try ConfigLoader.load(directory: path)
            } catch {
                #expect(error.message == "'\(path)' is neither a directory nor a regular file; --config takes a directory of YAML files or one YAML file")
            }
        }
        #expect(ConfigDirectory.kind(of: config.path + "/missing.yaml") == .missing)
        #expect(ConfigDirectory.kind(of: config.path + "/config.fifo/below") == .missing, "ENOTDIR counts as missing")
        try FileManager.default.createSymbolicLink(atPath: config.path + "/dangling.yaml", withDestinationPath: "nowhere.yaml")
        #expect(ConfigDirectory.kind(of: config.path + "/dangling.yaml") == .missing)
    }

    @Test("symlinked files and directories are followed, and a symlink loop ends")
    func symlinks() throws {
        let config = try TempConfig(["real/checks.yaml": "checks: {linked: }"])
        try FileManager.default.createSymbolicLink(atPath: config.path + "/current", withDestinationPath: config.path + "/real")
        try FileManager.default.createSymbolicLink(atPath: config.path + "/real/loop", withDestinationPath: config.path)
        let files = try ConfigDirectory.yamlFiles(under: config.path)
        #expect(files.count == 1)
    }

    @Test("a YAML symlink to a missing file is an error at the link, not checks silently gone")
    func danglingSymlink() throws {
        let config = try TempConfig(["checks.yaml": "checks: {kept: }"])
        try FileManager.default.createSymbolicLink(atPath: config.path + "/gone.yaml", withDestinationPath: "..data/gone.yaml")
        try FileManager.default.createSymbolicLink(atPath: config.path + "/notes.txt", withDestinationPath: "missing.txt")
        let result = try config.load()
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.map(\.code) == [.unreadableFile])
        #expect(errors.first?.location.file == config.path + "/gone.yaml")
        #expect(errors.first?.message.contains("symlink to '..data/gone.yaml', which does not exist") == true)
        #expect(result.catalog.checks.map(\.id.key) == ["kept"])
    }

    @Test("a missing config directory is an error that says what to do")
    func missingDirectory() {
        #expect(throws: ConfigDirectoryError.self) { try ConfigLoader.load(directory: "/nonexistent/checks.d") }
        do {
            _ = try ConfigLoader.load(directory: "/nonexistent/checks.d")
        } catch {
            #expect(error.message.contains("--config"))
        }
    }

    @Test("an empty directory and empty files are a valid, empty configuration")
    func empty() throws {
        let config = try TempConfig(["empty.yaml": "", "comments.yaml": "# nothing yet\n", "null.yaml": "---\n"])
        let result = try config.load()
        #expect(result.diagnostics.isEmpty)
        #expect(result.catalog.checks.isEmpty)
    }

    @Test("an unknown key suggests the closest known one")
    func didYouMean() throws {
        let config = try TempConfig(["a.yaml": "checks:\n  x:\n    Grace: 1h\n    shedule: '* * * * *'\n    colour: 1\n"])
        let result = try config.load()
        let notes = result.diagnostics.map { $0.notes.first?.message ?? "" }
        #expect(notes == ["did you mean 'grace'?", "did you mean 'schedule'?", "known keys in check 'x': " + FileDecoder.checkKeys.joined(separator: ", ")])
    }

    @Test("duplicates name both places")
    func duplicateNotes() throws {
        let config = try TempConfig(["a.yaml": "checks:\n  x:\n", "b.yaml": "checks:\n  x:\n"])
        let result = try config.load()
        #expect(result.diagnostics.count == 1)
        #expect(result.diagnostics[0].location.file.hasSuffix("b.yaml"))
        #expect(result.diagnostics[0].notes.first?.location?.file.hasSuffix("a.yaml") == true)
        #expect(result.diagnostics[0].notes.first?.location?.line == 2)
    }

    @Test("a file's unknown projects, duplicates and unknown channels are reported in the file's order, and the checks between them are kept")
    func problemsInFileOrder() throws {
        let config = try TempConfig([
            "a.yaml": """
                projects: {ops: {name: Ops, channels: {hook: {kind: webhook, url: "http://127.0.0.1:9/"}}}}
                checks:
                  x: {project: ops}
                """,
            "b.yaml": """
                project: nowhere
                checks:
                  skipped: {}
                  first: {project: ops}
                  lost: {project: elsewhere}
                  x: {project: ops}
                  alarmed: {project: ops, channels: [hook, pager]}
                  gone: {project: missing}
                """,
        ])
        let result = try config.load()
        let found = result.diagnostics.map { "\($0.location.line) \($0.message)" }
        #expect(found == [
            "1 unknown project 'nowhere'",
            "5 unknown project 'elsewhere'",
            "6 check 'x' is declared twice in project 'ops'",
            "7 unknown channel 'pager' in project 'ops'",
            "8 unknown project 'missing'",
        ], "\(found)")
        #expect(result.catalog.checks.map(\.id.description) == ["ops/alarmed", "ops/first", "ops/x"])
    }

    @Test("a key is a duplicate only within its project, however the projects' checks interleave across files; the first one declared is kept, and the catalog finds each")
    func duplicatesPerProject() throws {
        let config = try TempConfig([
            "a.yaml": """
                projects: {ops: {name: Ops}, dev: {name: Dev}}
                checks:
                  x: {project: ops}
                  x2: {project: dev, name: X in dev}
                  y: {project: dev}

                """,
            "b.yaml": "project: dev\nchecks:\n  x: {name: dev x}\n  x2: {name: second}\n",
            "c.yaml": "project: ops\nchecks:\n  y: {}\n  x: {name: second}\n",
        ])
        let result = try config.load()
        let found = result.diagnostics.map { "\(($0.location.file as NSString).lastPathComponent):\($0.location.line) \($0.message) / \($0.notes.first?.location.map { "\(($0.file as NSString).lastPathComponent):\($0.line)" } ?? "")" }
        #expect(found == [
            "b.yaml:4 check 'x2' is declared twice in project 'dev' / a.yaml:4",
            "c.yaml:4 check 'x' is declared twice in project 'ops' / a.yaml:3",
        ], "\(found)")
        let catalog = result.catalog
        #expect(catalog.checks.map(\.id.description) == ["dev/x", "dev/x2", "dev/y", "ops/x", "ops/y"])
        #expect(catalog.check(.init(project: "dev", key: "x2"))?.name == "X in dev", "the first declared is kept")
        #expect(catalog.check(.init(project: "ops", key: "x"))?.name == "x")
        #expect(catalog.check(.init(project: "dev", key: "x"))?.name == "dev x")
        #expect(catalog.check(.init(project: "ops", key: "x2")) == nil && catalog.check(.init(project: "qa", key: "x")) == nil)
        #expect(catalog.identitiesAreUnique)
    }

    @Test("slugs conflict within a project only, each project's found in declaration order; the catalog says whether any did")
    func slugConflictsPerProject() throws {
        let config = try TempConfig([
            "a.yaml": "projects: {ops: {name: Ops}, dev: {name: Dev}}\nchecks:\n  a: {project: ops, name: Backup}\n  b: {project: dev, name: Backup}\n",
            "b.yaml": "project: dev\nchecks:\n  c: {name: Sync}\n  d: {name: backup}\n",
            "c.yaml": "project: ops\nchecks:\n  e: {name: Sync}\n  f: {name: BACKUP}\n",
        ])
        let result = try config.load()
        let found = result.diagnostics.map { "\(($0.location.file as NSString).lastPathComponent):\($0.location.line) \($0.code) \($0.message)" }
        #expect(found == [
            "b.yaml:4 slugConflict checks 'b' and 'd' of project 'dev' have the same slug 'backup'; pings to that slug URL answer 409",
            "c.yaml:4 slugConflict checks 'a' and 'f' of project 'ops' have the same slug 'backup'; pings to that slug URL answer 409",
        ], "\(found)")
        #expect(result.catalog.slugsAreUnique == false)
        let apart = try TempConfig(["a.yaml": "projects: {ops: {name: Ops}, dev: {name: Dev}}\nchecks:\n  a: {project: ops, name: Backup}\n  b: {project: dev, name: Backup}\n"]).load()
        #expect(apart.diagnostics.isEmpty && apart.catalog.slugsAreUnique == true)
    }

    @Test("a check refused for pinning another's UUID still takes its key: a later check with the key is its duplicate")
    func refusedPinKeepsKey() throws {
        let config = try TempConfig([
            "a.yaml": "checks:\n  first: {uuid: 0b7c4a5e-0000-4000-8000-00000000000a}\n  second: {uuid: 0b7c4a5e-0000-4000-8000-00000000000a}\n",
            "b.yaml": "checks:\n  second: {}\n",
        ])
        let result = try config.load()
        #expect(result.diagnostics.map(\.code) == [.duplicateCheck, .duplicateCheck])
        let twice = try #require(result.diagnostics.last)
        #expect(twice.message == "check 'second' is declared twice in project 'default'")
        #expect(twice.location.file.hasSuffix("b.yaml"))
        #expect(twice.notes.first?.location?.file.hasSuffix("a.yaml") == true && twice.notes.first?.location?.line == 3)
        #expect(result.catalog.checks.map(\.id.key) == ["first"])
    }

    @Test("secrets resolve from the environment and files, and are never printed")
    func secrets() throws {
        let config = try TempConfig([
            "p.yaml": """
                projects:
                  ops:
                    ping_key: {env: OPS_KEY}
                    api_keys: {read_only: {file: ro.txt}, read_write: literal-rw-key}
                  dev:
                    ping_key: {file: dev-key}
                """,
        ])
        let result = try config.load()
        #expect(result.diagnostics.isEmpty)
        let files: [String: String] = ["ro.txt": "ro-secret\n", "dev-key": "same-value-123"]
        let resolver = SecretResolver(environment: ["OPS_KEY": "same-value-123"]) { path in
            guard let text = files[path] else { throw CocoaError(.fileNoSuchFile) }
            return Data(text.utf8)
        }
        let ops = try #require(result.catalog.project("ops"))
        #expect(try resolver.resolve(#require(ops.readOnlyKey)).get() == "ro-secret")
        let diagnostics = resolver.check(result.catalog)
        #expect(diagnostics.map(\.code) == [.duplicatePingKey])
        #expect(!diagnostics[0].message.contains("same-value-123"))
        let missing = SecretResolver(environment: [:]) { _ in throw CocoaError(.fileNoSuchFile) }.check(result.catalog)
        #expect(missing.map(\.code) == [.missingSecret, .missingSecret, .missingSecret])
    }
}
