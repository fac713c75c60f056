import Hummingbird
import NIOCore
import Runtime

/// Per-request context: Hummingbird's core storage plus the peer's address, for the ping record.
struct ServerContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    /// The connection, so a request whose body is refused (413, 408) can stop its reading.
    let channel: (any Channel)?

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }
}
