import AsyncHTTPClient
import HTTPProxy
import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP client of the commands that talk to a running server (`kiothc run`'s pings,
/// `kiothc pause` and `resume`): AsyncHTTPClient, as the alert courier, with TLS for https
/// servers, through the proxy the environment names (`ProxySetting`). Each request must answer
/// within `timeout` (connecting included), and a pause in its body may last `timeout` at most.
/// The client never retries by itself: a refused connection fails at once, and the caller
/// decides whether to try again.
///
/// Only through `with(timeout:server:environment:_:)`, which shuts the client down however its
/// body ends.
public final class CommandHTTPClient: Sendable {
    public struct Answer: Sendable {
        public var status: Int
        /// The value of each header, by lower-case name (the last one when repeated).
        public var headers: [String: String]
        /// The start of the body, at most the `bodyLimit` of the request.
        public var body: [UInt8]
    }

    /// Why a request failed, for people: what happened, with the host and port but never the
    /// URL's path (where ping keys and UUIDs live).
    public struct Failure: Error, Sendable {
        public let reason: String
    }

    public let timeout: Duration
    private let client: HTTPClient
    private let proxy: ProxySetting?
    /// Why no request can be sent (a proxy variable that cannot be used).
    private let unusable: Failure?

    private init(timeout: Duration, server: String, environment: [String: String]) {
        self.timeout = timeout
        var configuration = HTTPClient.Configuration()
        switch ProxySetting.forServer(server, environment: environment) {
        case .success(let setting):
            proxy = setting
            unusable = nil
            configuration.proxy = setting?.proxy
        case .failure(let failure):
            proxy = nil
            unusable = Failure(reason: failure.reason)
        }
        configuration.timeout = .init(connect: Self.amount(timeout), read: Self.amount(timeout))
        // By default a refused connection is retried until the deadline: a server that is down
        // would cost the whole timeout of every attempt instead of failing at once.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// Runs `body` with a client for `server` (a URL: its scheme and host choose the proxy), and
    /// shuts the client down afterwards, whether `body` returned or threw.
    public static func with<T: Sendable>(
        timeout: Duration, server: String, environment: [String: String] = ProcessInfo.processInfo.environment, _ body: (CommandHTTPClient) async throws -> T
    ) async throws -> T {
        let client = CommandHTTPClient(timeout: timeout, server: server, environment: environment)
        let result: Result<T, any Error>
        do { result = .success(try await body(client)) } catch { result = .failure(error) }
        try? await client.client.shutdown()
        return try result.get()
    }

    /// One request: the status, the headers and the first `bodyLimit` bytes of the body (the
    /// rest is not read).
    public func send(_ method: String, _ url: String, headers: [(String, String)], body: [UInt8]? = nil, bodyLimit: Int = .max) async throws(Failure) -> Answer {
        if let unusable { throw unusable }
        do {
            return try await exchange(method, url, headers: headers, body: body, bodyLimit: bodyLimit)
        } catch {
            throw Failure(reason: describe(error, url: url))
        }
    }

    private func exchange(_ method: String, _ url: String, headers: [(String, String)], body: [UInt8]?, bodyLimit: Int) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, deadline: .now() + Self.amount(timeout))
        var answer = Answer(status: Int(response.status.code), headers: [:], body: [])
        for header in response.headers { answer.headers[header.name.lowercased()] = header.value }
        for try await chunk in response.body {
            answer.body += chunk.readableBytesView.prefix(bodyLimit - answer.body.count)
            if answer.body.count >= bodyLimit { break }
        }
        return answer
    }

    private func describe(_ error: any Error, url: String) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .tlsHandshakeTimeout:
                return "no answer within \(Self.seconds(timeout)) s"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(error)"
            }
        }
        return ConnectionFailure.describe(error, url: url, proxy: proxy) ?? String(String(describing: error).prefix(300))
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds)" }
        return "\(Double(seconds) + Double(attoseconds) / 1e18)"
    }

    static func amount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
