import Foundation
import PingStore
import Testing
import TestSupport

/// The libFuzzer corpus of the ping path (Fuzz/Corpus/route, docs/reliability.md) replayed on
/// every `swift test`, without libFuzzer: each input goes through the harness's own entry
/// (`RouteFuzzTarget`: `ServerResponder` → `PingEndpoint` → a real `PingStore` in a temporary
/// directory) and must get one of the statuses the Pinging API documents.
@Suite("Route fuzz corpus")
struct RouteCorpusTests {
    static let corpus = FuzzCorpus("route")

    @Test("every corpus input is answered with a documented status, and every ping answered 200 is stored")
    func corpusAnswers() async throws {
        let names = try Self.corpus.names()
        #expect(names.count >= 50, "the corpus is missing or was emptied")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-route-corpus-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let target = try await RouteFuzzTarget(root: root, keepPings: 1_000_000)
        defer { try? target.store.close() }

        var statuses: [Int: Int] = [:]
        var notRequests = 0
        var acknowledgedPings = 0
        for name in names {
            let bytes = try Self.corpus.bytes(of: name)
            guard let input = FuzzRequest(bytes) else {
                notRequests += 1
                continue
            }
            let status = try await target.status(for: input)
            #expect(RouteFuzzTarget.documentedStatuses.contains(status), "\(name): \(status) for \(input.method) \(input.path.prefix(80))")
            statuses[status, default: 0] += 1
            // The path as the router reads it (a target like `htp://host/ping/...` has one too).
            if status == 200 && input.request().uri.path.hasPrefix("/ping/") { acknowledgedPings += 1 }
        }
        // The harness keeps only inputs it could read as a request.
        #expect(notRequests * 10 < names.count, "\(notRequests) of \(names.count) inputs are not requests")
        // A corpus that reaches the checks and also the refusals: not only 404s.
        for code in [200, 400, 404, 405, 409, 413] {
            #expect(statuses[code, default: 0] > 0, "no input got \(code): \(statuses)")
        }

        // An acknowledgement means stored (SPEC §2): each 200 on /ping/ is one stored ping.
        var stored = 0
        for uuid in RouteFuzzTarget.uuids.values {
            stored += try target.store.pings(of: UUID(uuidString: uuid)!, limit: Int.max).count
        }
        #expect(stored == acknowledgedPings, "\(acknowledgedPings) pings answered 200, \(stored) stored")
    }
}
