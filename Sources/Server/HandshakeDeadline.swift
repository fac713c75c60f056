import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// An HTTPS listener's child channel: Hummingbird's HTTP/2-upgrade channel, plus a deadline for
/// the TLS handshake. Neither NIOSSL nor Hummingbird has one, so a client that connects and
/// never sends its ClientHello kept the connection (and a slot of --max-connections) for ever.
struct HandshakeDeadline: ServerChildChannel {
    let inner: HTTP2UpgradeChannel
    let timeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP2UpgradeChannel.Value> {
        let value = inner.setup(channel: channel, logger: logger)
        // The TLS handler is in the pipeline now; the deadline goes right behind it, where the
        // handshake's completion event passes.
        do {
            let operations = channel.pipeline.syncOperations
            let tls = try operations.handler(type: NIOSSLServerHandler.self)
            try operations.addHandler(HandshakeDeadlineHandler(timeout: timeout), position: .after(tls))
        } catch {
            logger.debug("no TLS handshake deadline on this connection: \(error)")
        }
        return value
    }

    func handle(value: HTTP2UpgradeChannel.Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Closes the connection unless the TLS handshake completes within `timeout`; then removes
/// itself.
final class HandshakeDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
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
        if case TLSUserEvent.handshakeCompleted = event {
            deadline?.cancel()
            deadline = nil
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
