// libFuzzer harness: the ping path on a fuzzed request, without a socket. The input is read as
// a small HTTP/1-like text,
//
//     METHOD TARGET
//     Name: value        (headers, any number)
//     @chunk N           (harness directive: deliver the body in N-byte buffers)
//
//     body
//
// and handed to the server's responder (route, catalog lookup, state update, the store's append)
// with a real store in a temporary directory. Any trap, sanitizer report or hang is a bug; an
// answer is checked to be one of the statuses the Pinging API documents (SPEC §2).
import CheckCatalog
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import PingStore
import Synchronization

@testable import Server

/// Fixed identities, so the seed corpus can name them.
enum Fixture {
    static let yaml = """
        projects:
          ops: {name: Operations}
          web: {name: Web}
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
    static let pingKeys = ["ops": "ops-key", "web": "web-key"]
    static let maxRequestBody = 12_000
}

/// The server side, built once: a store in a temporary directory, the catalog, the responder.
final class Harness: Sendable {
    let root: String
    let store: PingStore
    let responder: ServerResponder
    let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
    /// Microseconds; each ping is a second after the previous one.
    let clock = Box<Int64>(1_767_225_600_000_000)

    init() {
        root = harnessRoot
        try? FileManager.default.removeItem(atPath: root)
        // libFuzzer ends the process with exit(): the temporary directory goes then.
        atexit { try? FileManager.default.removeItem(atPath: harnessRoot) }
        let config = root + "/checks.d"
        try! FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try! Data(Fixture.yaml.utf8).write(to: URL(fileURLWithPath: config + "/checks.yaml"))
        let loaded = try! ConfigLoader.load(directory: config)
        precondition(loaded.isValid, DiagnosticReport(loaded, strict: false).render(.text))
        var uuids: [CheckDefinition.ID: UUID] = [:]
        for check in loaded.catalog.checks {
            uuids[check.id] = UUID(uuidString: Fixture.uuids["\(check.id)"]!)!
        }
        store = try! PingStore.open(
            DataDirectory(root + "/data"), options: PingStore.Options(durability: .write, keepPings: 20, maintenanceInterval: nil))
        let serving = ServingCatalog(catalog: loaded.catalog, uuids: uuids, pingKeys: Fixture.pingKeys)
        let clock = clock
        let endpoint = PingEndpoint(
            catalog: CurrentCatalog(serving), states: CheckStates([:]), store: store,
            clock: { clock.value.withLock { $0 += 1_000_000; return $0 } }, maxRequestBody: Fixture.maxRequestBody)
        responder = ServerResponder(pings: endpoint, scheme: "http")
    }
}

let harnessRoot = NSTemporaryDirectory() + "kiothc-fuzz-route-\(getpid())"
let harness = Harness()
nonisolated(unsafe) var inputsRun = 0

/// The statuses the ping path and the probes may answer with; anything else (a 500 above all) is a bug.
let documentedStatuses: Set<Int> = [200, 204, 400, 404, 405, 408, 409, 413, 503]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRoute(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let input = FuzzRequest(bytes) else { return -1 }  // not a request: not added to the corpus
    let done = DispatchSemaphore(value: 0)
    let status = Box<Int?>(nil)
    let request = input.request()
    Task {
        let channel = NIOAsyncTestingChannel()
        let source = ApplicationRequestContextSource(channel: channel, logger: harness.logger)
        let response = try? await harness.responder.respond(to: request, context: ServerContext(source: source))
        status.value.withLock { $0 = response?.status.code }
        // A test channel left open stays alive in a cycle with its pipeline (500 MB per
        // 100,000 inputs).
        _ = try? await channel.finish()
        done.signal()
    }
    done.wait()
    let code = status.value.withLock { $0 }
    if let code, !documentedStatuses.contains(code) {
        fatalError("unexpected status \(code) for \(input.method) \(input.path)")
    }
    inputsRun += 1
    // Keep the data directory small over a million inputs: compact as `serve` would.
    if inputsRun % 2_000 == 0 {
        try? harness.store.checkpoint()
        try? harness.store.compactPending()
    }
    return 0
}

/// A value shared with the task that answers the request.
final class Box<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
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
