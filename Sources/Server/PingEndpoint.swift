import Foundation
import HTTPTypes
import Hummingbird
import Monitoring
import PingStore

/// The Pinging API (SPEC §2): route, look up, update the check's state, store, answer. An
/// acknowledgement means stored: "OK" is sent only after the store has the ping.
struct PingEndpoint: Sendable {
    static let prefix = "/ping/"

    let catalog: CurrentCatalog
    let states: CheckStates
    let store: PingStore
    /// Microseconds since the epoch; read once per ping.
    let clock: @Sendable () -> Int64
    let maxRequestBody: Int
    /// A ping's body must arrive within this long of its head (a body trickling in a byte at a
    /// time never trips the idle timeout); `--idle-timeout`.
    var bodyTimeout: Duration = .seconds(60)
    /// Pings stored and append latency, for `/metrics`.
    var meter = PingMeter()
    /// "ping not stored" lines: the first of a run of failures, then one per 10 s.
    let storeFailures = ThrottledLog(interval: .seconds(10))
    /// Stores the ping with its flip's alerts and moves the check's deadline; nil in tests of
    /// the endpoint alone (the ping is then stored directly).
    var engine: StatusEngine? = nil

    func respond(to request: Request, context: ServerContext, scheme: String) async -> Response {
        let head = request.method == .head
        switch request.method {
        case .get, .head, .post: break
        case .options: return PingResponses.preflight()
        default: return PingResponses.methodNotAllowed()
        }
        let path = request.uri.path.dropFirst(Self.prefix.count)
        let route: PingRoute
        switch PingRoute.parse(path) {
        case .success(let parsed): route = parsed
        case .failure(.notFound): return PingResponses.error(.notFound, PingResponses.notFound, head: head)
        case .failure(.invalidFormat): return PingResponses.error(.badRequest, PingResponses.invalidURLFormat, head: head)
        }

        let snapshot = catalog.snapshot
        let entry: ServingCatalog.Entry
        switch route.target {
        case .uuid(let uuid):
            guard let found = snapshot.check(uuid) else { return PingResponses.error(.notFound, PingResponses.notFound, head: head) }
            entry = found
        case .slug(let pingKey, let slug):
            switch snapshot.check(pingKey: pingKey, slug: slug) {
            case .found(let found): entry = found
            case .notFound: return PingResponses.error(.notFound, PingResponses.notFound, head: head)
            case .ambiguous: return PingResponses.error(.conflict, PingResponses.ambiguousSlug, head: head)
            }
        }

        let signal: ReceivedPing.Signal
        switch route.action {
        case .success: signal = .success
        case .start: signal = .start
        case .fail: signal = .fail
        case .log: signal = .log
        case .exitStatus(let status):
            guard status <= 255 else { return PingResponses.error(.badRequest, PingResponses.invalidURLFormat, head: head) }
            signal = .exitStatus(status)
        }
        var rid: UUID?
        if let text = request.uri.queryParameters["rid"] {
            // The canonical form by hand (Foundation's parser goes through sscanf); Foundation
            // still reads the others, upper case included.
            guard let parsed = UUID(canonicalText: text[...]) ?? UUID(uuidString: String(text)) else {
                return PingResponses.error(.badRequest, PingResponses.invalidUUIDFormat, head: head)
            }
            rid = parsed
        }

        var body = PingBody()
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxRequestBody {
            return Self.refuseBody(.contentTooLarge, PingResponses.payloadTooLarge, context: context, head: head)
        }
        let deadline = ContinuousClock.now + bodyTimeout
        do {
            for try await buffer in request.body {
                body.append(buffer)
                if body.size > maxRequestBody {
                    return Self.refuseBody(.contentTooLarge, PingResponses.payloadTooLarge, context: context, head: head)
                }
                if ContinuousClock.now > deadline {
                    return Self.refuseBody(.requestTimeout, PingResponses.bodyTooSlow, context: context, head: head)
                }
            }
        } catch {
            // The client went away or sent a broken body: nothing is recorded.
            return PingResponses.error(.badRequest, "could not read the request body", head: head)
        }

        let received = ReceivedPing(
            signal: signal, method: request.method.rawValue,
            scheme: request.headers[.xForwardedProto] ?? scheme,
            remoteAddress: Self.remoteAddress(request, context),
            userAgent: request.headers[.userAgent] ?? "",
            body: body.text, bodySize: body.size, rid: rid)
        let definition = entry.definition
        let (outcome, previous, turn) = states.applyInTurn(
            received, to: entry.uuid, at: clock(), postOnly: definition.methods == .post, manualResume: definition.manualResume)
        defer { turn.done() }
        let appendStarted = ContinuousClock.now
        do {
            if let engine {
                try await engine.store(outcome, of: entry, turn: turn)
            } else {
                await turn.wait()
                try await store.append(outcome.ping, to: entry.uuid, flip: outcome.flip, queued: turn.done)
            }
            meter.stored(outcome.ping.kind, after: ContinuousClock.now - appendStarted)
        } catch {
            meter.failed()
            states.undo(outcome, previous: previous, of: entry.uuid)
            if let skipped = storeFailures.admit() {
                context.logger.error(
                    "ping not stored: \(error)",
                    metadata: ["check.uuid": "\(entry.uuid.uuidString.lowercased())", "not_stored_since_last_line": "\(skipped)"])
            }
            return PingResponses.unavailable()
        }
        return PingResponses.ok(head: head)
    }

    /// Answers a request whose body is not read to its end and stops reading the connection:
    /// otherwise the server would go on draining the rest of the body before the next request,
    /// forever for an endless chunked body. The connection closes after the answer.
    static func refuseBody(_ status: HTTPResponse.Status, _ text: String, context: ServerContext, head: Bool) -> Response {
        context.channel?.close(mode: .input, promise: nil)
        var response = PingResponses.error(status, text, head: head)
        response.headers[.connection] = "close"
        return response
    }

    /// As Healthchecks: the first address of X-Forwarded-For when a proxy sets it, else the
    /// peer; an IPv4 address with a port loses the port.
    static func remoteAddress(_ request: Request, _ context: ServerContext) -> String {
        if let forwarded = request.headers[.xForwardedFor], let first = forwarded.split(separator: ",").first {
            var address = first.trimmingCharacters(in: .whitespaces)
            if address.contains("."), address.contains(":"), let colon = address.firstIndex(of: ":") {
                address = String(address[..<colon])
            }
            return address
        }
        return context.remoteAddress?.ipAddress ?? ""
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}
