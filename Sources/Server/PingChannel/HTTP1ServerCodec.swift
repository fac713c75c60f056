import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Runtime

/// Turns NIO's HTTP/1 parts into Hummingbird's and back, as NIOHTTPTypesHTTP1's
/// `HTTP1ToHTTPServerCodec` does, and keeps what that conversion loses, the request's version,
/// for the connection's persistence (RFC 9112 §9.3, `ConnectionPersistence`): an HTTP/1.0
/// request is answered in HTTP/1.0, and after the answer to a request that does not persist
/// (HTTP/1.0 without `keep-alive`, any `close`) the connection is closed and nothing behind that
/// request is read (§9.6). Both paths answer through it: the ping handler and Hummingbird's
/// responder.
///
/// It also holds the connection's first request to `--header-timeout` (a connection that sends
/// nothing, or never ends its head, is closed), and marks the connection busy or waiting for a
/// head for `OpenConnections`. Per request: a read of `Connection`, a clock read and two stores.
final class HTTP1ServerCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Reading {
        /// Requests are read and passed on.
        case requests
        /// The request being read is the connection's last: its body and end pass, then nothing.
        case lastRequest
        /// Nothing more is passed on; the connection closes after the answers owed.
        case none
    }

    private var reading = Reading.requests
    /// The versions of the requests passed on whose answers have not ended, oldest first.
    private var owed = CircularBuffer<HTTPVersion>(initialCapacity: 4)
    /// The answer being written is the connection's last.
    private var closeAfterAnswer = false
    private let headerTimeout: TimeAmount
    private var headerDeadline: Scheduled<Void>?
    private var headRead = false
    private let activity: ConnectionActivity?

    init(headerTimeout: TimeAmount, activity: ConnectionActivity?) {
        self.headerTimeout = headerTimeout
        self.activity = activity
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armHeaderDeadline(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armHeaderDeadline(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headerDeadline?.cancel()
        headerDeadline = nil
    }

    private func armHeaderDeadline(context: ChannelHandlerContext) {
        guard headerDeadline == nil, !headRead else { return }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        headerDeadline = context.eventLoop.scheduleTask(in: headerTimeout) {
            bound.value.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard case .requests = reading else { return }
            if !headRead {
                headRead = true
                headerDeadline?.cancel()
                headerDeadline = nil
            }
            activity?.busy()
            owed.append(head.version)
            if !ConnectionPersistence.persists(head.version, head.headers) {
                reading = .lastRequest
            }
            do {
                let request = try HTTPRequest(head, secure: false, splitCookie: false)
                context.fireChannelRead(wrapInboundOut(.head(request)))
            } catch {
                context.fireErrorCaught(error)
            }
        case .body(let body):
            guard reading != .none else { return }
            context.fireChannelRead(wrapInboundOut(.body(body)))
        case .end(let trailers):
            guard reading != .none else { return }
            if case .lastRequest = reading { reading = .none }
            context.fireChannelRead(wrapInboundOut(.end(trailers.map { HTTPFields($0, splitCookie: false) })))
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            context.write(wrapOutboundOut(.head(head(of: response))), promise: promise)
        case .body(let body):
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: promise)
        case .end(let trailers):
            if !owed.isEmpty { owed.removeFirst() }
            let end = wrapOutboundOut(.end(trailers.map(HTTPHeaders.init)))
            guard closeAfterAnswer else {
                if owed.isEmpty { activity?.idle() }
                context.write(end, promise: promise)
                return
            }
            let written = context.writeAndFlush(end)
            written.cascade(to: promise)
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// The answer's head in the version of its request, saying whether the connection persists.
    private func head(of response: HTTPResponse) -> HTTPResponseHead {
        var head = HTTPResponseHead(response)
        if let version = owed.first { head.version = version }
        // 1xx answers precede the final one (101 is not used here).
        guard head.status.code >= 200 else { return head }
        let http10 = head.version.major == 1 && head.version.minor == 0
        let closes =
            (reading != .requests && owed.count <= 1)
            || ConnectionPersistence.options(head.headers).close
            // HTTP/1.0 has no chunked coding: a body without a length ends with the connection.
            || (http10 && !head.headers.contains(name: "content-length") && head.status != .noContent && head.status != .notModified)
        if closes {
            closeAfterAnswer = true
            reading = .none
            head.headers.replaceOrAdd(name: "connection", value: "close")
        } else if http10 {
            head.headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        return head
    }
}
