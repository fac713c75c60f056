import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOHTTP2
import NIOHTTPTypesHTTP1
import NIOSSL
import NIOTLS
import Runtime

/// An HTTPS listener's child channel: Hummingbird's HTTP/2-upgrade channel, plus a deadline for
/// the TLS handshake. Neither NIOSSL nor Hummingbird has one, so a client that connects and
/// never sends its ClientHello kept the connection (and a slot of --max-connections) for ever.
/// On an HTTP/2 connection, `GoAwayDeadline` then bounds the time from the server's GOAWAY to
/// the close by `goAwayTimeout`.
struct HandshakeDeadline: ServerChildChannel {
    let inner: HTTP2UpgradeChannel
    let timeout: TimeAmount
    let goAwayTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP2UpgradeChannel.Value> {
        let value = inner.setup(channel: channel, logger: logger)
        // The TLS handler is in the pipeline now; the deadline goes right behind it, where the
        // handshake's completion event passes.
        do {
            let operations = channel.pipeline.syncOperations
            let tls = try operations.handler(type: NIOSSLServerHandler.self)
            try operations.addHandler(HandshakeDeadlineHandler(timeout: timeout, goAwayTimeout: goAwayTimeout, logger: logger), position: .after(tls))
        } catch {
            logger.debug("no TLS handshake deadline on this connection: \(error)")
        }
        return value
    }

    func handle(value: HTTP2UpgradeChannel.Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Closes the connection unless the TLS handshake completes within `timeout`; then puts a
/// `GoAwayDeadline` in the HTTP/2 pipeline, or `HTTP1ServerCodec` in the HTTP/1.1 one, and
/// removes itself.
final class HandshakeDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    let timeout: TimeAmount
    let goAwayTimeout: TimeAmount
    let logger: Logger
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount, goAwayTimeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.goAwayTimeout = goAwayTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            bound.value.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            deadline?.cancel()
            deadline = nil
            // Behind this handler, the protocol negotiation handler builds the HTTP/1.1 or
            // HTTP/2 pipeline as this event passes (Hummingbird's HTTP2Channel builds it
            // synchronously), so NIOHTTP2's handler is there once it returns.
            context.fireUserInboundEventTriggered(event)
            let operations = context.pipeline.syncOperations
            if negotiated == "h2" {
                do {
                    let http2 = try operations.handler(type: NIOHTTP2Handler.self)
                    try operations.addHandler(GoAwayDeadline(timeout: goAwayTimeout), position: .after(http2))
                } catch {
                    // Without it, Hummingbird's own graceful close still applies.
                    logger.warning("no GOAWAY deadline on this HTTP/2 connection: \(error)")
                }
            } else {
                // HTTP/1.x: our codec in place of NIOHTTPTypesHTTP1's, for HTTP/1.0 and the
                // `Connection` tokens, as on plain listeners (the TLS handshake stood for the
                // first head's deadline until now).
                do {
                    let codec = try operations.handler(type: HTTP1ToHTTPServerCodec.self)
                    try operations.addHandler(HTTP1ServerCodec(headerTimeout: timeout, activity: nil), position: .after(codec))
                    operations.removeHandler(codec, promise: nil)
                } catch {
                    logger.warning("HTTP/1.0 and Connection tokens not handled on this HTTPS connection: \(error)")
                }
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
