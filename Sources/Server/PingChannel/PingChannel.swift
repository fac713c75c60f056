import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Runtime

/// A plain HTTP/1.x connection: Hummingbird's `HTTP1Channel` pipeline with
/// `PingChannelHandler` added behind its connection-state handler, so pings are answered on
/// the event loop, and `HTTP1ServerCodec` in place of its codec (HTTP/1.0, `Connection` tokens,
/// the first head's deadline). Requests that are not pings reach Hummingbird's responder as
/// before.
/// (Not NIO's pipelining assistance: it stops and restarts reading around every answer
/// written later than its request was read: 0.6 `epoll_ctl` calls per ping under load;
/// the handler keeps answers in order itself.)
struct PingChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>
    static let serverName = "kiothc"

    let responder: HTTPChannelHandler.Responder
    let endpoint: PingEndpoint
    let scheme: String
    let idleTimeout: Duration
    /// How long a new connection has to send its first request head.
    let headerTimeout: Duration
    /// The listener's connections, shed at `--max-connections`.
    let connections: OpenConnections

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Hummingbird's limits (HTTP1Channel.Configuration's defaults).
            let defaults = HTTP1Channel.Configuration().httpDecoder
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = defaults.maxHeaderFieldSize
            limits.maxHeaderListSize = defaults.maxHeaderListSize
            limits.maxHeaderFieldCount = defaults.maxHeaderFieldCount
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
            // Instead of NIOHTTPTypesHTTP1's HTTP1ToHTTPServerCodec: the same conversion, keeping
            // the request's version for HTTP/1.0 (see HTTP1ServerCodec).
            let activity = connections.add(channel)
            try pipeline.addHandler(HTTP1ServerCodec(headerTimeout: TimeAmount(headerTimeout), activity: activity))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: idleTimeout, logger: logger))
            try pipeline.addHandler(PingChannelHandler(endpoint: endpoint, scheme: scheme, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
