import HTTPTypes
import HummingbirdCore
import Logging
import Runtime
import NIOCore
import NIOHTTPTypes

/// Answers pings on a plain HTTP/1.1 connection's event loop, where the request was decoded,
/// instead of handing each to a task on Swift's thread pool and its answer back (the hop the
/// benchmark's profile found to cost as much as the ping's own work). Every other request,
/// and every part of it, passes on to Hummingbird's responder unchanged.
///
/// Answers leave in the order of the requests (HTTP/1.1 pipelining) whichever path writes
/// them: while a ping is with the store, whatever arrives next waits here (and reading stops
/// once something waits); while Hummingbird's responder owes answers, pings go to it too. It
/// sits behind Hummingbird's `HTTPConnectionStateHandler`, which therefore sees every request
/// and answer (idle timeout, graceful shutdown).
///
/// An answer means stored, as on the other path: `OK` is written only once the store's
/// writer thread says the ping is durable (after its batch's write, and fdatasync in `fsync`
/// mode); the event loop itself never touches the disk.
final class PingChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Waiting for a request's head.
        case idle
        /// A request for Hummingbird's responder: its parts pass on, to its end.
        case passing
        /// A ping's body is arriving.
        case reading(Reading)
        /// Answered at its head (an error, no ping): the rest of the request is dropped.
        case discarding
        /// The ping is with the store; its answer has not been written yet.
        case storing
        /// The connection closes after an answer; nothing more is read.
        case closing
    }

    private struct Reading {
        let ping: PingEndpoint.AdmittedPing
        let headers: HTTPFields
        let deadline: ContinuousClock.Instant
        var body = PingBody()
    }

    /// What arrived while a ping was with the store, delivered after its answer.
    private enum Held {
        case read(NIOAny)
        case event(Any)
        case error(any Error)
    }

    private let endpoint: PingEndpoint
    private let scheme: String
    private let logger: Logger
    private var state = State.idle
    private var held: [Held] = []
    /// A read was asked for while something waited in `held`.
    private var readHeld = false
    /// Requests passed to Hummingbird's responder whose answers have not been written.
    private var owed = 0

    init(endpoint: PingEndpoint, scheme: String, logger: Logger) {
        self.endpoint = endpoint
        self.scheme = scheme
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.storing, _):
            held.append(.read(data))
        case (.closing, _):
            break
        case (.idle, .head(let request)):
            let uri = URI(request.path ?? "")
            guard owed == 0, Self.answersHere(request.method), uri.path.hasPrefix(PingEndpoint.prefix) else {
                owed += 1
                state = .passing
                context.fireChannelRead(data)
                return
            }
            let contentLength = request.headerFields[.contentLength].flatMap { Int($0) }
            switch endpoint.admit(method: request.method, uri: uri, contentLength: contentLength) {
            case .answer(let answer):
                state = .discarding
                write(answer, context: context)
            case .ping(let ping):
                state = .reading(Reading(ping: ping, headers: request.headerFields, deadline: .now + endpoint.bodyTimeout))
            }
        case (.reading(var reading), .body(let buffer)):
            reading.body.append(buffer)
            if reading.body.size > endpoint.maxRequestBody {
                write(PingEndpoint.refusedBody(.contentTooLarge, PingResponses.payloadTooLarge, head: reading.ping.head), context: context)
            } else if ContinuousClock.now > reading.deadline {
                write(PingEndpoint.refusedBody(.requestTimeout, PingResponses.bodyTooSlow, head: reading.ping.head), context: context)
            } else {
                state = .reading(reading)
            }
        case (.reading(let reading), .end):
            state = .storing
            record(reading, context: context)
        case (.discarding, .end):
            state = .idle
        case (.discarding, _):
            break
        case (.passing, .end):
            state = .idle
            context.fireChannelRead(data)
        case (.passing, _), (.idle, _), (.reading, .head):
            // Not a request this handler began: Hummingbird's responder reports the fault.
            state = .passing
            context.fireChannelRead(data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Hummingbird's responder answering (this handler's own answers start below it).
        if case .end = unwrapOutboundIn(data), owed > 0 { owed -= 1 }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        // A client pipelining behind a ping that is with the store: read no more than what
        // already waits, until the ping is answered.
        if !held.isEmpty {
            readHeld = true
            return
        }
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch state {
        case .storing:
            // A client that half-closes after its ping still gets the answer: Hummingbird's
            // side would close the connection at the end of input.
            held.append(.event(event))
        case .reading:
            // The body will never end: nothing is recorded.
            state = .idle
            context.fireUserInboundEventTriggered(event)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .storing:
            held.append(.error(error))
        case .reading, .discarding:
            // A broken body: nothing is recorded; Hummingbird's side answers 400 and closes.
            state = .idle
            context.fireErrorCaught(error)
        default:
            context.fireErrorCaught(error)
        }
    }

    /// Methods whose pings are answered here; OPTIONS and the rest go to the responder.
    private static func answersHere(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .post || method == .head
    }

    private func record(_ reading: Reading, context: ChannelHandlerContext) {
        let received = endpoint.received(
            reading.ping, body: reading.body, headers: reading.headers, peer: context.channel.remoteAddress, scheme: scheme)
        let eventLoop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: eventLoop)
        let (endpoint, logger, ping) = (endpoint, logger, reading.ping)
        endpoint.recorder.record(received, to: ping.entry) { recording, error in
            // The answer is made on the event loop, not on the store's writer thread, which
            // every ping of a batch waits for.
            let answer: @Sendable () -> Void = {
                handler.value.answered(endpoint.stored(recording, ping: ping, error: error, logger: logger), context: boundContext.value)
            }
            if eventLoop.inEventLoop { answer() } else { eventLoop.execute(answer) }
        }
    }

    private func answered(_ answer: PingAnswer, context: ChannelHandlerContext) {
        guard case .storing = state else { return }
        state = .idle
        write(answer, context: context)
        var replayed = false
        defer {
            // Hummingbird's side hands reads on to its responder at the end of a read burst.
            if replayed { context.fireChannelReadComplete() }
        }
        while !held.isEmpty {
            if case .storing = state { return }
            switch held.removeFirst() {
            case .read(let data):
                replayed = true
                channelRead(context: context, data: data)
            case .event(let event): userInboundEventTriggered(context: context, event: event)
            case .error(let error): errorCaught(context: context, error: error)
            }
        }
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    /// Writes the answer as Hummingbird's responder would (with `Date` and `Server`). Whether
    /// the connection persists after it (the request's version and `Connection`, or an answer
    /// that closes) is `HTTP1ServerCodec`'s to apply, below.
    private func write(_ answer: PingAnswer, context: ChannelHandlerContext) {
        var response = HTTPResponse(status: answer.status, headerFields: answer.headers)
        if !response.headerFields.contains(.contentLength) {
            response.headerFields[.contentLength] = String(answer.body.readableBytes)
        }
        response.headerFields[.date] = HTTPDate.now
        response.headerFields[.server] = PingChannel.serverName
        if answer.closesConnection {
            state = .closing
            response.headerFields[.connection] = "close"
        }
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if answer.body.readableBytes > 0 { context.write(wrapOutboundOut(.body(answer.body)), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
