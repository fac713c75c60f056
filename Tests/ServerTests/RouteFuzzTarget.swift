// The ping path on a fuzzed request, without a socket: shared by the libFuzzer harness
// (Fuzz/FuzzRoute, which links this file through a symbolic link) and by `RouteCorpusTests`,
// which replays Fuzz/Corpus/route on every `swift test`. Being in the test target, it is
// compiled by every build of the tests, so the harness cannot rot unseen.
//
// An input is read as a small HTTP/1-like text,
//
//     METHOD TARGET
//     Name: value        (headers, any number)
//     @chunk N           (harness directive: deliver the body in N-byte buffers)
//
//     body
//
// and handed to the server's responder (route, catalog lookup, state update, the store's append)
// with a real store in a temporary directory. The answer must be one of the statuses the
// Pinging API documents (SPEC §2).
import CheckCatalog
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import PingStore
import Synchronization

@testable import Runtime
@testable import Server

/// The application of `serve` (every route) over a store in `root/data` and a fixed catalog.
final class RouteFuzzTarget: Sendable {
    /// Fixed identities, so the seed corpus and Fuzz/route.dict can name them.
    static let yaml = """
        projects:
          ops: {name: Operations, ping_key: ops-ping-key}
          web: {name: Web, ping_key: web-ping-key}
        checks:
          backup: {name: Backup, project: ops, timeout: 1h}
          post-only: {name: Post Only, project: ops, methods: POST, manual_resume: true}
          nightly: {name: Nightly, project: web, schedule: "0 3 * * *", tz: Europe/Riga}
          same-slug: {name: Backup, project: web}
          twin: {name: Twin Slug, project: web}
          twin-2: {name: twin slug, project: web}
        """
    static let uuids = [
        "ops/backup": "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e0001",
        "ops/post-only": "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e0002",
        "web/nightly": "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e0003",
        "web/same-slug": "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e0004",
        "web/twin": "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e0005",
        "web/twin-2": "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e0006",
    ]
    static let maxRequestBody = 12_000
    /// The statuses the application may answer with: the ping path and the probes, and, for
    /// everything else the fuzzer reaches through the whole application, the dashboard's and
    /// the API's (303 after login, 401 without a session or key, 403 cross-site or another
    /// project's check). Anything else (a 500 above all) is a bug.
    static let documentedStatuses: Set<Int> = [200, 204, 303, 400, 401, 403, 404, 405, 408, 409, 413, 503]

    let root: String
    let app: TestApplication
    let responder: ServerResponder
    let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
    /// Microseconds; each ping is a second after the previous one.
    private let clock = FuzzClock()

    /// Builds it in `root` (created; the caller removes it), keeping `keepPings` per check (the
    /// store's maintenance thread compacts beyond that, so a long fuzzing run stays small).
    init(root: String, keepPings: Int = 20) async throws {
        self.root = root
        let clock = clock
        app = try await TestApplication(
            root: root, yaml: Self.yaml, uuids: Self.uuids, keepPings: keepPings, clock: RuntimeClock(now: { clock.tick() }),
            maxRequestBody: Self.maxRequestBody)
        precondition(app.runtime.catalog.snapshot.count == Self.uuids.count)
        responder = app.application.responder(scheme: "http")
    }

    var store: PingStore { app.runtime.files!.pingStore }

    /// The status the server answers `input` with. The responder never throws (every path
    /// answers), so an error is a bug too and is passed on.
    func status(for input: FuzzRequest) async throws -> Int {
        let channel = NIOAsyncTestingChannel()
        let source = ApplicationRequestContextSource(channel: channel, logger: logger)
        let response: Response
        do {
            response = try await responder.respond(to: input.request(), context: ServerContext(source: source))
        } catch {
            _ = try? await channel.finish()
            throw error
        }
        // A test channel left open stays alive in a cycle with its pipeline (500 MB per
        // 100,000 inputs).
        _ = try? await channel.finish()
        return response.status.code
    }
}

/// A clock that moves a second at each reading.
final class FuzzClock: Sendable {
    private let now = Mutex<Int64>(1_767_225_600_000_000)

    func tick() -> Int64 {
        now.withLock { $0 += 1_000_000; return $0 }
    }
}

/// A fuzzed request, parsed leniently: only what HTTPTypes itself refuses is skipped.
struct FuzzRequest {
    var method: HTTPRequest.Method
    var path: String
    var fields = HTTPFields()
    var body: [UInt8] = []
    var chunk = Int.max

    init?(_ bytes: [UInt8]) {
        let blank = Array("\n\n".utf8)
        var headEnd = bytes.endIndex
        var bodyStart = bytes.endIndex
        if let range = bytes.firstRange(of: blank) {
            headEnd = range.lowerBound
            bodyStart = range.upperBound
        }
        let lines = bytes[..<headEnd].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard let requestLine = lines.first, let space = requestLine.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        guard let method = HTTPRequest.Method(String(decoding: requestLine[..<space], as: UTF8.self)) else { return nil }
        self.method = method
        path = String(decoding: requestLine[(space + 1)...], as: UTF8.self)
        for line in lines.dropFirst() {
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("@chunk "), let size = Int(text.dropFirst(7)), size > 0 {
                chunk = size
                continue
            }
            guard let colon = text.firstIndex(of: ":"), let name = HTTPField.Name(String(text[..<colon])) else { continue }
            fields.append(HTTPField(name: name, value: text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        body = Array(bytes[bodyStart...])
    }

    func request() -> Request {
        let head = HTTPRequest(method: method, scheme: "http", authority: "127.0.0.1", path: path, headerFields: fields)
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        var offset = 0
        repeat {
            let end = min(body.count, offset + min(chunk, body.count))
            continuation.yield(ByteBuffer(bytes: body[offset..<end]))
            offset = end
        } while offset < body.count
        continuation.finish()
        return Request(head: head, body: RequestBody(asyncSequence: stream))
    }
}
