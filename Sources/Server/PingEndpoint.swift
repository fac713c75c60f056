import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import Monitoring
import NIOCore
import Runtime

/// The Pinging API (SPEC §2): route, look up, update the check's state, store, answer. An
/// acknowledgement means stored: "OK" is sent only after the store has the ping.
struct PingEndpoint: Sendable {
    static let prefix = "/ping/"

    let catalog: CurrentCatalog
    /// Applies, stores and accounts for the pings this endpoint admits.
    let recorder: PingRecorder
    let maxRequestBody: Int
    /// With a shared store: checks live in the database that this instance's configuration
    /// does not hold yet (a rolling deploy): their pings get 503, try again, not 404.
    var liveElsewhere: @Sendable (UUID) -> Bool = { _ in false }
    /// A ping's body must arrive within this long of its head (a body trickling in a byte at a
    /// time never trips the idle timeout); `--idle-timeout`.
    var bodyTimeout: Duration = .seconds(60)

    /// A request's head has named a check and a signal; its body comes next.
    struct AdmittedPing: Sendable {
        let entry: ServingCatalog.Entry
        let signal: ReceivedPing.Signal
        let rid: UUID?
        let method: HTTPRequest.Method
        var head: Bool { method == .head }
    }

    enum Admission {
        /// Answer this at once: no ping (an error, a preflight).
        case answer(PingAnswer)
        /// Read the body, then `record` the ping.
        case ping(AdmittedPing)
    }

    /// What a request's head alone decides: route, check, signal, rid, declared body size.
    func admit(method: HTTPRequest.Method, uri: URI, contentLength: Int?) -> Admission {
        let head = method == .head
        switch method {
        case .get, .head, .post: break
        case .options: return .answer(PingResponses.preflight())
        default: return .answer(PingResponses.methodNotAllowed())
        }
        let path = uri.path.dropFirst(Self.prefix.count)
        let route: PingRoute
        switch PingRoute.parse(path) {
        case .success(let parsed): route = parsed
        case .failure(.notFound): return .answer(PingResponses.error(.notFound, PingResponses.notFound, head: head))
        case .failure(.invalidFormat): return .answer(PingResponses.error(.badRequest, PingResponses.invalidURLFormat, head: head))
        }

        let snapshot = catalog.snapshot
        let entry: ServingCatalog.Entry
        switch route.target {
        case .uuid(let uuid):
            guard let found = snapshot.check(uuid) else {
                if liveElsewhere(uuid) { return .answer(PingResponses.notLoadedHere(head: head)) }
                return .answer(PingResponses.error(.notFound, PingResponses.notFound, head: head))
            }
            entry = found
        case .slug(let pingKey, let slug):
            switch snapshot.check(pingKey: pingKey, slug: slug) {
            case .found(let found): entry = found
            case .notFound: return .answer(PingResponses.error(.notFound, PingResponses.notFound, head: head))
            case .ambiguous: return .answer(PingResponses.error(.conflict, PingResponses.ambiguousSlug, head: head))
            }
        }

        let signal: ReceivedPing.Signal
        switch route.action {
        case .success: signal = .success
        case .start: signal = .start
        case .fail: signal = .fail
        case .log: signal = .log
        case .exitStatus(let status):
            guard status <= 255 else { return .answer(PingResponses.error(.badRequest, PingResponses.invalidURLFormat, head: head)) }
            signal = .exitStatus(status)
        }
        var rid: UUID?
        if let text = uri.queryParameters["rid"] {
            // The canonical form by hand (Foundation's parser goes through sscanf); Foundation
            // still reads the others, upper case included.
            guard let parsed = UUID(canonicalText: text[...]) ?? UUID(uuidString: String(text)) else {
                return .answer(PingResponses.error(.badRequest, PingResponses.invalidUUIDFormat, head: head))
            }
            rid = parsed
        }
        if let contentLength, contentLength > maxRequestBody {
            return .answer(Self.refusedBody(.contentTooLarge, PingResponses.payloadTooLarge, head: head))
        }
        return .ping(AdmittedPing(entry: entry, signal: signal, rid: rid, method: method))
    }

    /// The Pinging API on Hummingbird's responder (HTTP/2, HTTPS; plain HTTP/1.1 pings are
    /// answered by `PingChannelHandler` on the event loop, with the same `admit` and `record`).
    func respond(to request: Request, context: ServerContext, scheme: String) async -> Response {
        let contentLength = request.headers[.contentLength].flatMap { Int($0) }
        let ping: AdmittedPing
        switch admit(method: request.method, uri: request.uri, contentLength: contentLength) {
        case .answer(let answer):
            if answer.closesConnection { context.channel?.close(mode: .input, promise: nil) }
            return answer.response
        case .ping(let admitted): ping = admitted
        }

        var body = PingBody()
        let deadline = ContinuousClock.now + bodyTimeout
        do {
            for try await buffer in request.body {
                body.append(buffer)
                if body.size > maxRequestBody {
                    return Self.refuseBody(.contentTooLarge, PingResponses.payloadTooLarge, context: context, head: ping.head)
                }
                if ContinuousClock.now > deadline {
                    return Self.refuseBody(.requestTimeout, PingResponses.bodyTooSlow, context: context, head: ping.head)
                }
            }
        } catch {
            // The client went away or sent a broken body: nothing is recorded.
            return PingResponses.error(.badRequest, "could not read the request body", head: ping.head).response
        }

        let received = received(ping, body: body, headers: request.headers, peer: context.remoteAddress, scheme: scheme)
        let (recording, error) = await recorder.record(received, to: ping.entry)
        return stored(recording, ping: ping, error: error, logger: context.logger).response
    }

    /// The ping as the recorder takes it, with what the request says about its sender.
    func received(_ ping: AdmittedPing, body: PingBody, headers: HTTPFields, peer: SocketAddress?, scheme: String) -> ReceivedPing {
        ReceivedPing(
            signal: ping.signal, method: ping.method.rawValue,
            scheme: headers[.xForwardedProto] ?? scheme,
            remoteAddress: Self.remoteAddress(headers, peer: peer),
            userAgent: headers[.userAgent] ?? "",
            body: body.text, bodySize: body.size, rid: ping.rid)
    }

    /// The answer once the store has spoken: "OK" when stored; else the client is told to
    /// retry (the recorder has put the check's state back and logged the failure).
    func stored(_ recording: PingRecorder.Recording, ping: AdmittedPing, error: (any Error)?, logger: Logger) -> PingAnswer {
        recorder.finish(recording, error: error, logger: logger) ? PingResponses.ok(head: ping.head) : PingResponses.unavailable()
    }

    /// An answer to a request whose body is not read to its end: otherwise the server would go
    /// on draining the rest of the body before the next request, forever for an endless chunked
    /// body. The connection stops reading and closes after the answer.
    static func refusedBody(_ status: HTTPResponse.Status, _ text: String, head: Bool) -> PingAnswer {
        var answer = PingResponses.error(status, text, head: head)
        answer.closesConnection = true
        return answer
    }

    static func refuseBody(_ status: HTTPResponse.Status, _ text: String, context: ServerContext, head: Bool) -> Response {
        context.channel?.close(mode: .input, promise: nil)
        return refusedBody(status, text, head: head).response
    }

    /// As Healthchecks: the first address of X-Forwarded-For when a proxy sets it, else the
    /// peer; an IPv4 address with a port loses the port.
    static func remoteAddress(_ headers: HTTPFields, peer: SocketAddress?) -> String {
        if let forwarded = headers[.xForwardedFor], let first = forwarded.split(separator: ",").first {
            var address = first.trimmingCharacters(in: .whitespaces)
            if address.contains("."), address.contains(":"), let colon = address.firstIndex(of: ":") {
                address = String(address[..<colon])
            }
            return address
        }
        return peer?.ipAddress ?? ""
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}
