import Testing
import TestSupport
import YAMLParser

@testable import CheckCatalog

/// `StreamingDecoder` reads a file of checks from libyaml's events; the tree decoder reads
/// every file and reports every problem. Whatever the streaming decoder takes must decode to
/// exactly what the tree gives, with no diagnostic; everything else must be left to the tree.
@Suite("Decoding files of checks from libyaml's events")
struct StreamingDecoderTests {
    static let path = "checks.d/fleet/a.yaml"

    /// The streaming decoder's draft, or nil when it left the file to the tree.
    static func streamed(_ text: String, limits: ParseLimits = .standard) -> FileDraft? {
        StreamingDecoder.decode(Array(text.utf8), path: path, limits: limits, schedules: ScheduleCache())
    }

    static func tree(_ text: String, limits: ParseLimits = .standard) -> (FileDraft, [Diagnostic]) {
        ConfigLoader.decodeTree(Array(text.utf8), path: path, limits: limits)
    }

    static func shown(_ diagnostic: Diagnostic) -> String {
        "\(diagnostic.severity) \(diagnostic.location) \(diagnostic.message)"
    }

    static let taken: [(String, Int, String)] = [
        ("a generated fleet file", 3, """
            # generated: file 2 of 1000
            project: proj-01
            checks:
              job-0001000:
                name: Job 1000 Cleanup
                schedule: "30 4 1 * *"
                tz: Europe/London
                grace: 1w
                tags: [infra, backup, k8s]
              job-0001001:
                name: Job 1001 Sync
                schedule: "Sun *-*-* 05:00:00"
                tz: Australia/Sydney
                grace: 90s
                tags: []
                desc: Runs job 1001; owner team-13
              job-0001002: {name: Job 1002 Sync, timeout: 6h, grace: 2d, tags: []}
            """),
        ("every field but maintenance, in block and flow style", 5, """
            checks:
              backup:
                name: Nightly backup ✓
                project: ops
                schedule: '30 2 * * *'
                tz: America/New_York
                grace: 7200
                tags:
                  - db
                  - nightly
                desc: |
                  Dumps the database;
                  then uploads it
                methods: POST
                manual_resume: true
                paused: false
                channels: [hook, other]
                uuid: 5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b
                slug: nightly
              report: {timeout: 6h, depends_on: [backup, dev/build], slug: daily-report, paused: true, "methods": ""}
              bare:
              all: {channels: "*", tags: "a b", grace: 90s}
              none: {channels: [], name: 2024}
            project: ops
            """),
        ("keys out of order, then in order again", 4, "checks:\n  b: {}\n  a: {grace: 1h}\n  c:\n  d: {}\n"),
        ("no checks at all", 0, "project: ops\nchecks: {}\n"),
        ("only a project", 0, "project: ops\n"),
    ]

    @Test("a file of checks it takes decodes to what the tree gives, field for field and place for place", arguments: taken)
    func takes(_ name: String, _ checks: Int, _ text: String) throws {
        let draft = try #require(Self.streamed(text), "\(name) was left to the tree")
        let (expected, diagnostics) = Self.tree(text)
        #expect(diagnostics.isEmpty)
        #expect(DraftCodec.encoded(draft) == DraftCodec.encoded(expected))
        #expect(draft.project?.name == expected.project?.name)
        #expect(draft.checks.map(\.key) == expected.checks.map(\.key))
        #expect(draft.checks.count == checks)
    }

    /// Files with a problem, each of which the tree must report.
    static let problems: [(String, String)] = [
        ("an unknown key", "checks:\n  a: {nmae: x}\n"),
        ("a repeated key of a check", "checks:\n  a:\n    grace: 1h\n    grace: 2h\n"),
        ("a check declared twice", "checks:\n  a: {}\n  b: {}\n  a: {}\n"),
        ("a check declared twice in a row", "checks:\n  a: {}\n  a: {}\n"),
        ("a check declared twice after keys out of order", "checks:\n  b: {}\n  a: {}\n  c: {}\n  a: {}\n"),
        ("a check declared twice, the first out of order", "checks:\n  b: {}\n  a: {}\n  b: {}\n"),
        ("two keys with one integer value", "checks:\n  16: {}\n  0x10: {}\n"),
        ("a repeated top-level key", "project: a\nproject: b\n"),
        ("an anchor and an alias", "checks:\n  a: &x {grace: 1h}\n  b: *x\n"),
        ("a tag the schema refuses", "checks:\n  a: {grace: !!int 1h}\n"),
        ("two documents", "checks:\n  a: {}\n---\nchecks:\n  b: {}\n"),
        ("a syntax error after the checks", "checks:\n  a: {grace: 1h}\n  b: {grace: 2h}\n]\n"),
        ("null checks", "checks:\n"),
        ("a check that is a string", "checks:\n  a: every hour\n"),
        ("a check that is a list", "checks:\n  a: [1, 2]\n"),
        ("an invalid check key", "checks:\n  Bad Key: {}\n"),
        ("an invalid schedule", "checks:\n  a: {schedule: '61 * * * *'}\n"),
        ("an unknown time zone", "checks:\n  a: {tz: Europe/Rigaa}\n"),
        ("a duration out of range", "checks:\n  a: {timeout: 10s}\n"),
        ("both timeout and schedule", "checks:\n  a: {timeout: 1h, schedule: daily}\n"),
        ("a list in a list", "checks:\n  a: {tags: [[a]]}\n"),
        ("a mapping for tags", "checks:\n  a: {tags: {a: b}}\n"),
        ("a boolean for a name", "checks:\n  a: {name: yes, paused: maybe}\n"),
        ("a top level that is a list", "- a\n- b\n"),
        ("a project that is not a string", "project: [a]\nchecks:\n  a: {}\n"),
        ("an unknown top-level key", "chekcs:\n  a: {}\n"),
        ("an upper-case pinned UUID", "checks:\n  a: {uuid: 5A1B0C9E-2F4D-4F6A-8E2B-1C3D4E5F6A7B}\n"),
        ("a bad depends_on entry", "checks:\n  a: {depends_on: [ops/x/y]}\n"),
        ("invalid UTF-8", "checks:\n  a: {name: \"\u{FFFD}\"}\n\u{0}"),
    ]

    @Test("a file with a problem is left to the tree, which reports it", arguments: problems)
    func leavesProblems(_ name: String, _ text: String) {
        #expect(Self.streamed(text) == nil)
        let (_, diagnostics) = Self.tree(text)
        #expect(!diagnostics.isEmpty, "the tree finds no problem: the case tests nothing")
        let (_, loaded) = ConfigLoader.decode(Array(text.utf8), path: Self.path)
        #expect(loaded.map(Self.shown) == diagnostics.map(Self.shown))
    }

    @Test("a check's field is found by its key, and only by its exact key")
    func fieldNames() {
        for field in FileDecoder.CheckField.allCases {
            let key = FileDecoder.checkKeys[field.rawValue]
            #expect(FileDecoder.CheckField(named: key) == field)
            // Same length and first letter, or one letter off: another key or none.
            for other in [key.uppercased(), String(key.dropLast()) + "x", key + "s", "x" + key.dropFirst(), String(key.dropLast())] {
                #expect(FileDecoder.CheckField(named: other) == FileDecoder.checkKeys.firstIndex(of: other).flatMap(FileDecoder.CheckField.init))
            }
        }
        #expect(FileDecoder.CheckField(named: "") == nil)
        #expect(FileDecoder.CheckField(named: "manual-resume") == nil)
        #expect(FileDecoder.CheckField.decodingOrder.sorted { $0.rawValue < $1.rawValue } == FileDecoder.CheckField.allCases)
    }

    @Test("a valid file of a shape it does not read is left to the tree")
    func leavesOtherShapes() {
        let valid = [
            "projects:\n  ops: {}\n",
            "checks:\n  a:\n    maintenance: [{schedule: '0 3 * * *', duration: 1h}]\n",
            "checks:\n  true: {}\n",
            "checks:\n  a: {name: !!str 12}\n",
            "checks:\n  '16': {}\n  17: {}\n",
            "",
            "# only a comment\n",
        ]
        for text in valid {
            #expect(Self.streamed(text) == nil, "\(text)")
            #expect(Self.tree(text).1.isEmpty, "\(text): the tree finds a problem; move the case to `problems`")
        }
    }

    @Test("a file past the size or depth limit is left to the tree, which reports it")
    func leavesLimits() {
        let text = "checks:\n  a: {tags: [x]}\n"
        for limits in [ParseLimits(maxBytes: 10), ParseLimits(maxDepth: 2)] {
            #expect(Self.streamed(text, limits: limits) == nil)
            #expect(!Self.tree(text, limits: limits).1.isEmpty)
        }
        #expect(Self.streamed(text) != nil)
    }

    @Test("on generated files of good and bad checks, what it takes is what the tree gives, and it takes the valid ones")
    func generated() {
        var random = SplitMix(seed: 25)
        var taken = 0
        var validLeft: [String] = []
        for _ in 0..<1500 {
            let text = Self.generatedFile(&random)
            let (expected, diagnostics) = Self.tree(text)
            guard let draft = Self.streamed(text) else {
                if diagnostics.isEmpty { validLeft.append(text) }
                continue
            }
            taken += 1
            #expect(diagnostics.isEmpty, "taken, but the tree reports \(diagnostics.map(Self.shown)) in\n\(text)")
            #expect(DraftCodec.encoded(draft) == DraftCodec.encoded(expected), "\(text)")
        }
        #expect(taken > 200, "too few valid files generated to compare")
        // The generator writes only fields the streaming decoder reads: a valid file it left to
        // the tree means a fleet's file would be parsed twice.
        #expect(validLeft == [])
    }

    @Test("on the YAML fuzz corpus, what it takes is what the tree gives")
    func corpus() async throws {
        let corpus = FuzzCorpus("yaml")
        let names = try corpus.names()
        let (taken, mismatches) = try await computeOnOwnThread {
            var taken = 0
            var mismatches: [String] = []
            for name in names {
                let bytes = try corpus.bytes(of: name)
                guard let draft = StreamingDecoder.decode(bytes, path: Self.path, limits: .standard, schedules: ScheduleCache()) else { continue }
                taken += 1
                let (expected, diagnostics) = ConfigLoader.decodeTree(bytes, path: Self.path)
                if !diagnostics.isEmpty || DraftCodec.encoded(draft) != DraftCodec.encoded(expected) { mismatches.append(name) }
            }
            return (taken, mismatches)
        }
        #expect(mismatches == [])
        #expect(taken >= 20, "only \(taken) of \(names.count) inputs compared")
    }

    /// A file of one to eight checks, each with random fields, good values mostly, some bad
    /// ones and some repeated keys, in block or flow style.
    static func generatedFile(_ random: inout SplitMix) -> String {
        let values: [(String, [String])] = [
            ("name", ["Job 1 Sync", "'quoted: name'", "2024", "\"\"", "yes", "x\\ty"]),
            ("schedule", ["\"30 4 1 * *\"", "hourly", "\"Sun *-*-* 05:00:00\"", "\"61 * * * *\"", "'@daily'"]),
            ("timeout", ["6h", "90", "1w", "10s", "1.5"]),
            ("grace", ["2d", "3600", "5m", "0", "null"]),
            ("tz", ["Europe/London", "UTC", "Mars/Base", "\"America/New_York\""]),
            ("tags", ["[]", "[a, b]", "\"a b\"", "[a, a]", "[\"\"]", "x"]),
            ("desc", ["Runs job 1", "\"line\\nbreak\"", "''", "12.5"]),
            ("methods", ["POST", "\"\"", "post"]),
            ("manual_resume", ["true", "false", "no"]),
            ("paused", ["false", "true", "1"]),
            ("channels", ["\"*\"", "[]", "[hook]", "[\"*\"]", "hook"]),
            ("slug", ["job-1", "Job_1", "\"\""]),
            ("uuid", ["5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b", "not-a-uuid"]),
            ("project", ["ops", "[ops]"]),
            ("depends_on", ["[a]", "[ops/b, c]", "[a/b/c]", "[]"]),
        ]
        var lines = random.below(4) == 0 ? [] : ["project: p\(random.below(3))"]
        lines.append("checks:")
        for index in 0..<(1 + random.below(8)) {
            let key = random.below(20) == 0 ? "c0" : random.below(40) == 0 ? "Bad Key" : "c\(index)"
            var fields: [String] = []
            for (name, choices) in values where random.below(3) == 0 {
                // Mostly the first, good, value; a bad one now and then.
                let value = random.below(6) == 0 ? choices[random.below(choices.count)] : choices[0]
                fields.append("\(name): \(value)")
                if random.below(60) == 0 { fields.append("\(name): \(value)") }
            }
            if fields.isEmpty && random.below(2) == 0 {
                lines.append("  \(key):")
            } else if random.below(2) == 0 {
                lines.append("  \(key): {\(fields.joined(separator: ", "))}")
            } else {
                lines.append("  \(key):")
                lines += fields.map { "    \($0)" }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension SplitMix {
    /// A number in 0..<bound.
    fileprivate mutating func below(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &self) }
}
