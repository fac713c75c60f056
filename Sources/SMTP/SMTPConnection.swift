import NIOCore
import NIOPosix
import NIOSSL

/// One TCP connection to a relay, as the client's steps use it: write, await a reply, start
/// TLS; each bounded in time. A thin async face over `SMTPReplyHandler`.
struct SMTPConnection: Sendable {
    /// What TLS needs: the context (trust roots) and the name the certificate must hold (nil:
    /// the IP address connected to).
    struct TLS: Sendable {
        let context: NIOSSLContext
        let serverHostname: String?
    }

    private let channel: any Channel
    private let handler: NIOLoopBoundBox<SMTPReplyHandler>

    private init(channel: any Channel, handler: NIOLoopBoundBox<SMTPReplyHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Connects; with `implicitTLS` TLS starts at once (await `handshake`).
    static func connect(
        host: String, port: Int, implicitTLS: TLS?, timeout: TimeAmount, group: any EventLoopGroup
    ) async throws -> SMTPConnection {
        // The handler is made here, not looked up after the connect: by then a failed handshake
        // may have closed the channel and emptied its pipeline.
        let eventLoop = group.next()
        let handler = NIOLoopBoundBox.makeBoxSendingValue(SMTPReplyHandler(), eventLoop: eventLoop)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicitTLS {
                        let tls = try NIOSSLClientHandler(context: implicitTLS.context, serverHostname: implicitTLS.serverHostname)
                        try channel.pipeline.syncOperations.addHandler(tls)
                    }
                    try channel.pipeline.syncOperations.addHandler(handler.value)
                }
            }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        return SMTPConnection(channel: channel, handler: handler)
    }

    /// The next reply from the server.
    func reply(within timeout: TimeAmount) async throws(ConnectionFailure) -> SMTPReply {
        let (handler, eventLoop) = (self.handler, channel.eventLoop)
        return try await Self.failure {
            try await eventLoop.flatSubmit { handler.value.nextReply(within: timeout, on: eventLoop) }.get()
        }
    }

    /// Writes `bytes` and waits until the socket took them.
    func write(_ bytes: some Collection<UInt8>, within timeout: TimeAmount) async throws(ConnectionFailure) {
        let (channel, buffer) = (self.channel, ByteBuffer(bytes: bytes))
        try await Self.failure {
            try await channel.eventLoop.flatSubmit {
                let promise = channel.eventLoop.makePromise(of: Void.self)
                let timer = channel.eventLoop.scheduleTask(in: timeout) {
                    promise.fail(ConnectionFailure.timedOut(timeout))
                    channel.close(promise: nil)
                }
                channel.writeAndFlush(buffer).whenComplete { result in
                    timer.cancel()
                    promise.completeWith(result)
                }
                return promise.futureResult
            }.get()
        }
    }

    /// Waits for the TLS handshake that `connect(implicitTLS:)` or `startTLS` began.
    func handshake(within timeout: TimeAmount) async throws(ConnectionFailure) {
        let (handler, eventLoop) = (self.handler, channel.eventLoop)
        try await Self.failure {
            try await eventLoop.flatSubmit { handler.value.handshakeCompletion(within: timeout, on: eventLoop) }.get()
        }
    }

    /// After the server's 220 to STARTTLS: puts TLS under the session and waits for the
    /// handshake. Refuses when the server sent anything after its 220, which a man in the
    /// middle could have injected in clear to be read as if it came through TLS.
    func startTLS(_ tls: TLS, within timeout: TimeAmount) async throws(ConnectionFailure) {
        let (channel, handler) = (self.channel, self.handler)
        try await Self.failure {
            try await channel.eventLoop.submit {
                guard !handler.value.hasUnreadInput else {
                    throw ConnectionFailure.malformed("more after its reply to STARTTLS, before TLS began")
                }
                let tlsHandler = try NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverHostname)
                try channel.pipeline.syncOperations.addHandler(tlsHandler, position: .first)
            }.get()
        }
        try await handshake(within: timeout)
    }

    func close() async {
        try? await channel.close()
    }

    private static func failure<T>(_ work: () async throws -> T) async throws(ConnectionFailure) -> T {
        do {
            return try await work()
        } catch let failure as ConnectionFailure {
            throw failure
        } catch {
            throw .transport(error)
        }
    }
}
