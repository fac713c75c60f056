import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import Runtime
@testable import Server

/// `/metrics` over a fleet (SPEC §9): the text is streamed a chunk at a time, never built whole,
/// and is the same text as before streaming (every family, HELP and TYPE line, label, order and
/// escape), checked against a plain rendering of the same checks and by parsing it.
@Suite("Metrics streaming")
struct MetricsStreamingTests {
    typealias Fixture = ManagementAPITests.Fixture
    static let admin = "admin-token-for-tests-0123456789"
    static let checks = 2_400

    /// `checks` checks in two projects: most in `ops` (tags `prod`, `db`, both or none; a
    /// few names to escape), a sixth in `web`; every 97th paused, every 50th in a window.
    static let yaml: String = {
        var text = """
            projects:
              ops:
                ping_key: ops-ping-key
                api_keys: {read_only: ops-read-only-key-0001, read_write: ops-read-write-key-0001}
              web:
                ping_key: web-ping-key
                api_keys: {read_only: web-read-only-key-0001}
            checks:

            """
        let tags = ["[prod]", "[db]", "[prod, db]", "[]", "[\"a\\\\b\", \"q\\\"t\"]"]
        let names = ["Queue \\\"Worker\\\" <b>", "back\\\\slash", "line\\nbreak", "Ünïcödé ✓", "tab\\there"]
        for index in 0..<checks {
            let project = index % 6 == 5 ? "web" : "ops"
            let name = index % 100 < names.count ? "\(names[index % 100]) \(index)" : "check \(index)"
            text += "  c\(index):\n    project: \(project)\n    name: \"\(name)\"\n"
            text += "    tags: \(tags[index % tags.count])\n"
            text += index % 3 == 0 ? "    schedule: \"*/10 * * * *\"\n" : "    timeout: \(index % 2 == 0 ? "2m" : "1h")\n"
            text += "    grace: 5m\n"
            if index % 97 == 0 { text += "    paused: true\n" }
            if index % 50 == 0 { text += "    maintenance: [{from: 2023-11-14T00:00:00Z, until: 2023-11-15T00:00:00Z}]\n" }
        }
        return text
    }()

    /// Chunks a response body was written in.
    final class Recorder: ResponseBodyWriter, Sendable {
        let chunks = Mutex<[ByteBuffer]>([])
        let finished = Mutex(false)

        func write(_ buffer: ByteBuffer) async throws {
            chunks.withLock { $0.append(buffer) }
        }

        func finish(_ trailingHeaders: HTTPFields?) async throws {
            finished.withLock { $0 = true }
        }

        var text: String { chunks.withLock { $0.reduce(into: "") { $0 += String(buffer: $1) } } }
    }

    static func endpoint(_ fixture: Fixture) -> MetricsEndpoint {
        let runtime = fixture.app.runtime
        return MetricsEndpoint(
            token: runtime.adminToken, status: runtime.reloadStatus, catalog: runtime.catalog, states: runtime.states,
            meter: runtime.recorder.meter, store: runtime.files?.pingStore, heldAlerts: { 0 }, clock: runtime.clock.now)
    }

    static func request(_ path: String, _ method: HTTPRequest.Method = .get, bearer: String? = nil) -> Request {
        var fields = HTTPFields()
        if let bearer { fields[.authorization] = "Bearer \(bearer)" }
        let head = HTTPRequest(method: method, scheme: "http", authority: "localhost", path: path, headerFields: fields)
        return Request(head: head, body: RequestBody(buffer: ByteBuffer()))
    }

    static func recorded(_ response: Response) async throws -> Recorder {
        let recorder = Recorder()
        try await response.body.write(recorder)
        #expect(recorder.finished.withLock { $0 })
        return recorder
    }

    /// A fleet with pings among its first 480 checks: `fail` to every 7th check (down), a success
    /// to every 5th (up; the `2m` ones go late after the clock moves 3 minutes), `start` to every
    /// 11th.
    static func pinged() async throws -> Fixture {
        let fixture = try await Fixture(yaml: yaml)
        try await fixture.application.test(.router) { client in
            // Among the first 480 only: every pinged check holds its files open until the
            // fixture closes, and a test process past ~1,350 open descriptors makes Foundation's
            // Process.run crash other tests (see TestSupport/ProcessLaunch.swift).
            for index in 0..<min(checks, 480) where index % 5 == 0 || index % 7 == 0 || index % 11 == 0 {
                let uuid = fixture.uuid("c\(index)")
                if index % 7 == 0 { try await client.execute(uri: "/ping/\(uuid)/fail", method: .get) { #expect($0.status == .ok) } }
                if index % 5 == 0 { try await client.execute(uri: "/ping/\(uuid)", method: .get) { #expect($0.status == .ok) } }
                if index % 11 == 0 { try await client.execute(uri: "/ping/\(uuid)/start", method: .get) { #expect($0.status == .ok) } }
            }
        }
        fixture.clock.advance(by: 3 * 60 * 1_000_000)
        return fixture
    }

    @Test("a scrape of thousands of checks is written in chunks, each check's series once, with its status, as valid exposition text")
    func streamsFleet() async throws {
        let fixture = try await Self.pinged()
        let endpoint = Self.endpoint(fixture)
        let response = endpoint.respond(to: Self.request("/metrics", bearer: Self.admin))
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(response.headers[.contentLength] == nil)
        let recorder = try await Self.recorded(response)
        let chunks = recorder.chunks.withLock { $0.map(\.readableBytes) }
        // 2,400 checks × 5 families is about 1.5 MB: many chunks, none much over the chunk size.
        #expect(chunks.count > 10, "\(chunks.count) chunks")
        #expect(chunks.allSatisfy { $0 > 0 && $0 < ExpositionBuffer.chunkSize + 4_096 }, "\(chunks)")
        let text = recorder.text
        let families = try ExpositionText.parse(text)

        let snapshot = fixture.app.runtime.catalog.snapshot
        let now = fixture.clock.now
        let views = snapshot.entries(visibleTo: .admin).map {
            CheckView(uuid: $0.uuid, definition: $0.definition, state: fixture.states.state(of: $0.uuid), now: now)
        }
        #expect(views.count == Self.checks)
        // The statuses the pings made, so the comparison below is not of an idle fleet.
        #expect(views.filter { $0.status == .down }.count > 40)
        #expect(views.filter { $0.status == .grace }.count > 20)
        #expect(views.filter { $0.status == .up }.count > 20)
        #expect(views.filter(\.started).count > 30)
        #expect(views.filter { $0.status == .paused }.count > 10)
        #expect(views.filter(\.inMaintenance).count > 10)

        let expected: [(String, (CheckView) -> Bool)] = [
            ("hc_check_up", { $0.status != .down }), ("hc_check_started", { $0.started }), ("hc_check_grace", { $0.status == .grace }),
            ("hc_check_paused", { $0.status == .paused }), ("kiothc_check_in_maintenance", { $0.inMaintenance }),
        ]
        for (name, value) in expected {
            let samples = try #require(families[name]).samples
            #expect(families[name]?.type == "gauge")
            // Each check once, with its labels and value.
            #expect(samples.count == Self.checks, "\(name)")
            let byKey = Dictionary(samples.map { ($0.labels["unique_key"] ?? "", $0) }, uniquingKeysWith: { first, _ in first })
            #expect(byKey.count == Self.checks, "\(name): unique keys")
            for view in views {
                let sample = byKey[view.uniqueKey]
                #expect(
                    sample?.labels
                        == ["name": view.definition.name, "tags": view.definition.tags.joined(separator: " "), "unique_key": view.uniqueKey,
                            "project": view.definition.id.project], "\(name) \(view.definition.id)")
                #expect(sample?.value == (value(view) ? 1 : 0), "\(name) \(view.definition.id)")
            }
        }
        #expect(families["hc_checks_total"]?.samples.map(\.value) == [Double(Self.checks)])
        #expect(families["hc_checks_down_total"]?.samples.map(\.value) == [Double(views.filter { $0.status == .down }.count)])
        // Per tag of a project: 0 while one of its checks with the tag is down.
        let tagUp = try #require(families["hc_tag_up"]).samples.map { "\($0.labels["project"] ?? "")/\($0.labels["tag"] ?? "") \($0.value)" }
        var tagsDown: [String: Bool] = [:]
        for view in views {
            for tag in view.definition.tags { tagsDown["\(view.definition.id.project)/\(tag)", default: false] = tagsDown["\(view.definition.id.project)/\(tag)"] == true || view.status == .down }
        }
        #expect(Set(tagUp) == Set(tagsDown.map { "\($0.key) \($0.value ? 0.0 : 1.0)" }))
        // The server's own series follow, for the admin.
        #expect(families["kiothc_pings_total"] != nil && families["kiothc_build_info"] != nil && families["kiothc_config_hash"] != nil)

        // The same text as the plain rendering (what /metrics wrote before it streamed).
        let series = text.range(of: "# HELP kiothc_config_last_reload_successful").map { String(text[..<$0.lowerBound]) }
        #expect(series == Self.plainCheckSeries(views))
    }

    @Test("a project's metrics (key in the URL, as bearer, or on /metrics) stream that project's checks only")
    func streamsProject() async throws {
        let fixture = try await Self.pinged()
        let endpoint = Self.endpoint(fixture)
        let ops = APIDocuments.projectID("ops")
        let responses = [
            endpoint.respond(to: Self.request("/projects/\(ops)/metrics/ops-read-only-key-0001"), project: ops, key: "ops-read-only-key-0001"),
            endpoint.respond(to: Self.request("/projects/\(ops)/metrics/", bearer: "ops-read-only-key-0001"), project: ops, key: nil),
            endpoint.respond(to: Self.request("/metrics", bearer: "ops-read-only-key-0001")),
        ]
        let opsChecks = (0..<Self.checks).filter { $0 % 6 != 5 }.count
        var texts: [String] = []
        for response in responses {
            #expect(response.status == .ok)
            let recorder = try await Self.recorded(response)
            #expect(recorder.chunks.withLock { $0.count } > 5)
            let families = try ExpositionText.parse(recorder.text)
            #expect(families["hc_check_up"]?.samples.count == opsChecks)
            #expect(families["hc_check_up"]?.samples.allSatisfy { $0.labels["project"] == "ops" } == true)
            #expect(families["hc_checks_total"]?.samples.map(\.value) == [Double(opsChecks)])
            #expect(families["kiothc_pings_total"] == nil)
            texts.append(recorder.text)
        }
        // One scrape moment, one text, however the key is given.
        #expect(Set(texts).count == 1)
    }

    @Test("HEAD answers 200 with the headers and writes no body; a bad key is still refused")
    func head() async throws {
        let fixture = try await Fixture(yaml: Self.yaml)
        let endpoint = Self.endpoint(fixture)
        let response = endpoint.respond(to: Self.request("/metrics", .head, bearer: Self.admin))
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
        let recorder = try await Self.recorded(response)
        #expect(recorder.chunks.withLock { $0.isEmpty })
        let ops = APIDocuments.projectID("ops")
        let project = endpoint.respond(to: Self.request("/projects/\(ops)/metrics/ops-read-only-key-0001", .head), project: ops, key: "ops-read-only-key-0001")
        #expect(project.status == .ok)
        #expect(try await Self.recorded(project).chunks.withLock { $0.isEmpty })
        #expect(endpoint.respond(to: Self.request("/metrics", .head, bearer: "nope")).status == .unauthorized)
        #expect(endpoint.respond(to: Self.request("/metrics", .head)).status == .unauthorized)
    }

    @Test("label values are escaped byte by byte: a CR LF and a quote or backslash followed by a combining mark cannot break the line")
    func escapesBytes() async throws {
        let yaml = """
            checks:
              crlf: {name: "one\\r\\ntwo", tags: [x]}
              quote: {name: "say \\"\\u0301hi\\"", tags: ["back\\\\\\u0301slash"]}
            """
        let fixture = try await Fixture(yaml: yaml)
        let recorder = try await Self.recorded(Self.endpoint(fixture).respond(to: Self.request("/metrics", bearer: Self.admin)))
        let text = recorder.text
        #expect(text.contains(#"hc_check_up{name="one\#r\ntwo",tags="x","#))
        #expect(text.contains(#"hc_check_up{name="say \"\#u{0301}hi\"",tags="back\\\#u{0301}slash","#))
        let families = try ExpositionText.parse(text)
        let names = Set(try #require(families["hc_check_up"]).samples.compactMap { $0.labels["name"] })
        #expect(names == ["one\r\ntwo", "say \"\u{0301}hi\""])
    }

    @Test("unique_key is Healthchecks': the SHA-1 hex of the UUID's first 16 hex digits, lower case")
    func uniqueKey() throws {
        // python3: hashlib.sha1(uuid.UUID(u).hex[:16].encode()).hexdigest()
        for (uuid, key) in [
            ("52C2A3F7-9ACA-44ED-ACFE-B14DF452EC8C", "0a0acdb3cfa07fd589a94e402e10a708bb6d8b7a"),
            ("00000000-0000-0000-0000-000000000000", "b02132081808b493c61e86626ee6c2e29326a662"),
            ("ffffffff-ffff-4fff-bfff-ffffffffffff", "7cf6fd71f0a6508a1512e7ce5338482a60e21f91"),
        ] {
            #expect(CheckView.uniqueKey(try #require(UUID(uuidString: uuid))) == key)
        }
    }

    @Test("the exposition parser of these tests refuses what is not exposition text")
    func parserRefuses() throws {
        let typed = "# TYPE a gauge\n"
        #expect(try ExpositionText.parse(typed + "a{b=\"c\",d=\"e\"} 1\n")["a"]?.samples.count == 1)
        for bad in [
            typed + "a{b=\"c\"} x\n", typed + "a{b=\"c} 1\n", typed + "a{b=\"c\\q\"} 1\n", typed + "# TYPE a gauge\na 1\n",
            typed + "a{b=\"c\"d=\"e\"} 1\n", typed + "a{b=\"c\",b=\"e\"} 1\n", typed + "a 1", typed + "a{b=\"c\"\n\"} 1\n",
            "# TYPE 1bad gauge\n1bad 1\n", "b 1\n# TYPE b gauge\n", typed + "a 1\n# HELP a late\n",
        ] {
            #expect(throws: ExpositionText.Invalid.self, "\(bad)") { try ExpositionText.parse(bad) }
        }
        #expect(try ExpositionText.parse("# HELP a x y\n# TYPE a gauge\na{l=\"\\\"\\\\\\n\"} 1.5\n")["a"]?.samples.first?.labels == ["l": "\"\\\n"])
    }

    /// The per-check families as /metrics wrote them before streaming: one String, from views.
    static func plainCheckSeries(_ views: [CheckView]) -> String {
        func labels(_ pairs: [(String, String)]) -> String {
            pairs.map { name, value in
                var escaped = ""
                for character in value {
                    switch character {
                    case "\\": escaped += "\\\\"
                    case "\"": escaped += "\\\""
                    case "\n": escaped += "\\n"
                    default: escaped.append(character)
                    }
                }
                return "\(name)=\"\(escaped)\""
            }.joined(separator: ",")
        }
        var out = ""
        func family(_ name: String, _ help: String, _ value: (CheckView) -> Bool) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for view in views {
                let pairs = [
                    ("name", view.definition.name), ("tags", view.definition.tags.joined(separator: " ")),
                    ("unique_key", view.uniqueKey), ("project", view.definition.id.project),
                ]
                out += "\(name){\(labels(pairs))} \(value(view) ? 1 : 0)\n"
            }
        }
        family("hc_check_up", "For every check, whether it is up (1) or down (0); new, late and paused checks count as up.") { $0.status != .down }
        family("hc_check_started", "For every check, whether a run is open (a start ping not yet closed).") { $0.started }
        family("hc_check_grace", "For every check, whether it is late and within its grace period.") { $0.status == .grace }
        family("hc_check_paused", "For every check, whether it is paused.") { $0.status == .paused }
        family("kiothc_check_in_maintenance", "For every check, whether one of its maintenance windows is in progress (its alerts are held).") { $0.inMaintenance }
        out += "# HELP hc_tag_up For every tag of a project, whether all its checks with the tag are up (1) or one is down (0).\n"
        out += "# TYPE hc_tag_up gauge\n"
        var tagsDown: [String: [String: Bool]] = [:]
        for view in views {
            for tag in view.definition.tags { tagsDown[view.definition.id.project, default: [:]][tag] = (tagsDown[view.definition.id.project]?[tag] ?? false) || view.status == .down }
        }
        for (project, tags) in tagsDown.sorted(by: { $0.key < $1.key }) {
            for (tag, down) in tags.sorted(by: { $0.key < $1.key }) {
                out += "hc_tag_up{\(labels([("tag", tag), ("project", project)]))} \(down ? 0 : 1)\n"
            }
        }
        out += "# HELP hc_checks_total The number of checks.\n# TYPE hc_checks_total gauge\nhc_checks_total \(views.count)\n"
        out += "# HELP hc_checks_down_total The number of checks that are down.\n# TYPE hc_checks_down_total gauge\nhc_checks_down_total \(views.filter { $0.status == .down }.count)\n"
        return out
    }
}

/// A strict reader of the Prometheus text exposition format (0.0.4) as /metrics writes it:
/// `# HELP` and `# TYPE` once per family and before its samples, metric and label names of the
/// format's alphabet, label values with only `\\`, `\"` and `\n` escapes, a number per sample,
/// every line ended by a line feed.
enum ExpositionText {
    struct Invalid: Error, CustomStringConvertible {
        let line: Int
        let reason: String
        var description: String { "line \(line): \(reason)" }
    }

    struct Sample {
        let labels: [String: String]
        let value: Double
    }

    struct Family {
        var type: String?
        var help: String?
        var samples: [Sample] = []
    }

    static func parse(_ text: String) throws -> [String: Family] {
        guard text.isEmpty || text.hasSuffix("\n") else { throw Invalid(line: 0, reason: "the text does not end with a line feed") }
        var families: [String: Family] = [:]
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let number = offset + 1
            if line.hasPrefix("# ") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, parts[1] == "HELP" || parts[1] == "TYPE", isName(parts[2]) else { throw Invalid(line: number, reason: "bad comment") }
                let name = String(parts[2])
                let rest = parts.count == 4 ? String(parts[3]) : ""
                if families[name]?.samples.isEmpty == false { throw Invalid(line: number, reason: "\(parts[1]) of \(name) after its samples") }
                if parts[1] == "HELP" {
                    guard families[name]?.help == nil else { throw Invalid(line: number, reason: "second HELP of \(name)") }
                    families[name, default: Family()].help = rest
                } else {
                    guard families[name]?.type == nil else { throw Invalid(line: number, reason: "second TYPE of \(name)") }
                    guard ["gauge", "counter", "histogram", "summary", "untyped"].contains(rest) else { throw Invalid(line: number, reason: "type '\(rest)'") }
                    families[name, default: Family()].type = rest
                }
                continue
            }
            let characters = Array(line.unicodeScalars)
            var index = 0
            var name = ""
            while index < characters.count, characters[index] != "{", characters[index] != " " {
                name.unicodeScalars.append(characters[index])
                index += 1
            }
            guard isName(Substring(name)) else { throw Invalid(line: number, reason: "metric name '\(name)'") }
            var labels: [String: String] = [:]
            if index < characters.count, characters[index] == "{" {
                index += 1
                while index < characters.count, characters[index] != "}" {
                    var label = ""
                    while index < characters.count, characters[index] != "=" {
                        label.unicodeScalars.append(characters[index])
                        index += 1
                    }
                    guard isName(Substring(label)), !label.contains(":"), index + 1 < characters.count, characters[index + 1] == "\"" else {
                        throw Invalid(line: number, reason: "label '\(label)'")
                    }
                    index += 2
                    var value = ""
                    while true {
                        guard index < characters.count else { throw Invalid(line: number, reason: "unterminated value of \(label)") }
                        let character = characters[index]
                        index += 1
                        if character == "\"" { break }
                        if character == "\\" {
                            guard index < characters.count else { throw Invalid(line: number, reason: "escape at the end") }
                            switch characters[index] {
                            case "\\": value += "\\"
                            case "\"": value += "\""
                            case "n": value += "\n"
                            default: throw Invalid(line: number, reason: "escape \\\(characters[index])")
                            }
                            index += 1
                        } else {
                            value.unicodeScalars.append(character)
                        }
                    }
                    guard labels.updateValue(value, forKey: label) == nil else { throw Invalid(line: number, reason: "label \(label) twice") }
                    if index < characters.count, characters[index] == "," { index += 1 } else if index < characters.count, characters[index] != "}" {
                        throw Invalid(line: number, reason: "after the value of \(label)")
                    }
                }
                guard index < characters.count else { throw Invalid(line: number, reason: "unterminated labels") }
                index += 1
            }
            guard index < characters.count, characters[index] == " " else { throw Invalid(line: number, reason: "no value") }
            var rest = ""
            rest.unicodeScalars.append(contentsOf: characters[(index + 1)...])
            guard let value = Double(rest) ?? (rest == "+Inf" ? .infinity : nil) else { throw Invalid(line: number, reason: "value '\(rest)'") }
            // Histogram samples belong to their family's name.
            var family = name
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) && families[name] == nil {
                let base = String(name.dropLast(suffix.count))
                if families[base]?.type == "histogram" { family = base }
            }
            guard families[family]?.type != nil else { throw Invalid(line: number, reason: "sample of \(name) before its TYPE") }
            families[family]?.samples.append(Sample(labels: labels, value: value))
        }
        return families
    }

    static func isName(_ name: Substring) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first == "_" || first == ":" || first.properties.isAlphabetic else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0 == ":" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }
}
