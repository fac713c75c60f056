import NIOCore
import NIOHTTP2
import Runtime

/// Closes an HTTP/2 connection `timeout` after the server's first GOAWAY. Hummingbird sends
/// GOAWAY and a PING when a connection has been idle for `--idle-timeout` (or the server stops),
/// and closes it only once the client acknowledges that PING: a client that never answered kept
/// the connection for ever. Sits between NIOHTTP2's handler and Hummingbird's connection
/// manager, where connection-level frames pass.
final class GoAwayDeadline: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if deadline == nil, case .goAway = unwrapOutboundIn(data).payload {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: timeout) {
                bound.value.close(promise: nil)
            }
        }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }
}
