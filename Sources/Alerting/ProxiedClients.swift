import AsyncHTTPClient
import HTTPProxy
import NIOPosix
import Synchronization

/// One HTTP client per proxy the environment names, made when first needed and kept for the
/// process (alerts through one proxy share its connections). Requests that go direct use the
/// courier's own client.
final class ProxiedClients: Sendable {
    static let shared = ProxiedClients()

    /// The client of requests that go direct. A connection that cannot be made (refused,
    /// unreachable, a name that does not resolve) fails the attempt at once, saying so: by
    /// default the client would retry it until the deadline and report only a timeout.
    static let direct: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    private let clients = Mutex<[String: HTTPClient]>([:])

    func client(for setting: ProxySetting) -> HTTPClient {
        clients.withLock { clients in
            if let client = clients[setting.value] { return client }
            var configuration = HTTPClient.Configuration()
            configuration.proxy = setting.proxy
            // A proxy that refuses the tunnel is an answer, not a connection to retry until the
            // deadline.
            configuration.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
            clients[setting.value] = client
            return client
        }
    }
}
