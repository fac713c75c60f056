import NIOCore
import NIOTLS

/// Why the connection gave no reply (or did not finish a write or a handshake).
enum ConnectionFailure: Error {
    case timedOut(TimeAmount)
    /// The server closed the connection.
    case closed
    /// The server sent something that is not SMTP.
    case malformed(String)
    /// The socket or TLS failed.
    case transport(any Error)
}

/// The last handler of a connection: bytes -> replies, each handed to whoever awaits the next
/// one, within a time limit. Everything here runs on the channel's event loop.
///
/// A timeout, a close or an error ends the session: every later wait fails with the first such
/// failure (after the replies that arrived before it).
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private typealias Waiter<Value> = (promise: EventLoopPromise<Value>, timeout: Scheduled<Void>)

    private var parser = SMTPReplyParser()
    private var replies = CircularBuffer<SMTPReply>()
    private var failure: ConnectionFailure?
    private var waiting: Waiter<SMTPReply>?
    private var handshakeCompleted = false
    private var handshake: Waiter<Void>?
    private var context: ChannelHandlerContext?

    /// Whether anything from the server waits unread (see `SMTPReplyParser.hasPartialReply`).
    var hasUnreadInput: Bool { !replies.isEmpty || parser.hasPartialReply }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            replies.append(contentsOf: try parser.feed(buffer.readableBytesView))
        } catch {
            fail(.malformed(error.reason))
        }
        deliver()
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(.transport(error))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent {
            handshakeCompleted = true
            if let handshake {
                self.handshake = nil
                handshake.timeout.cancel()
                handshake.promise.succeed()
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The next reply, or the failure that ended the session, or `.timedOut` after `timeout`.
    func nextReply(within timeout: TimeAmount, on eventLoop: any EventLoop) -> EventLoopFuture<SMTPReply> {
        if let reply = replies.popFirst() { return eventLoop.makeSucceededFuture(reply) }
        if let failure { return eventLoop.makeFailedFuture(failure) }
        precondition(waiting == nil, "one reply is awaited at a time")
        let promise = eventLoop.makePromise(of: SMTPReply.self)
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { self.fail(.timedOut(timeout)) }
        waiting = (promise, timer)
        return promise.futureResult
    }

    /// Completes once the TLS handshake has (the TLS handler before this one reports it).
    func handshakeCompletion(within timeout: TimeAmount, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        if handshakeCompleted { return eventLoop.makeSucceededVoidFuture() }
        if let failure { return eventLoop.makeFailedFuture(failure) }
        let promise = eventLoop.makePromise(of: Void.self)
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { self.fail(.timedOut(timeout)) }
        handshake = (promise, timer)
        return promise.futureResult
    }

    private func deliver() {
        guard let waiting, let reply = replies.popFirst() else { return }
        self.waiting = nil
        waiting.timeout.cancel()
        waiting.promise.succeed(reply)
    }

    /// Ends the session: the first failure is the one every wait reports.
    private func fail(_ failure: ConnectionFailure) {
        if self.failure == nil {
            self.failure = failure
            context?.close(promise: nil)
        }
        deliver()
        let reported = self.failure!
        if let waiting {
            self.waiting = nil
            waiting.timeout.cancel()
            waiting.promise.fail(reported)
        }
        if let handshake {
            self.handshake = nil
            handshake.timeout.cancel()
            handshake.promise.fail(reported)
        }
    }
}
