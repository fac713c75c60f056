import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends one ping with retries: 5xx answers, timeouts and connection failures are retried with
/// exponential backoff; 2xx ends it; other answers (404 for an unknown check) are final.
public struct Pinger: Sendable {
    public struct Policy: Sendable {
        public var attempts: Int
        public var timeout: TimeInterval
        public var firstBackoff: TimeInterval

        public init(attempts: Int = 4, timeout: TimeInterval = 10, firstBackoff: TimeInterval = 1) {
            self.attempts = max(1, attempts)
            self.timeout = timeout
            self.firstBackoff = firstBackoff
        }
    }

    public enum Outcome: Sendable, Equatable {
        /// 2xx; the server's `Ping-Body-Limit`, if it sent one.
        case delivered(bodyLimit: Int?)
        /// A final answer that is not 2xx, e.g. 404 for an unknown check.
        case refused(status: Int, message: String)
        /// Every attempt timed out, failed to connect, or got a 5xx.
        case unreachable(reason: String)
    }

    public let policy: Policy
    private let session: URLSession

    public init(policy: Policy = Policy()) {
        self.policy = policy
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = policy.timeout
        configuration.timeoutIntervalForResource = policy.timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration)
    }

    public func ping(_ url: URL, body: String? = nil, userAgent: String) async -> Outcome {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue(userAgent, forHTTPHeaderField: "User-Agent")
        request.setValue("text/plain; charset=utf-8", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data((body ?? "").utf8)
        var reason = ""
        var backoff = policy.firstBackoff
        for attempt in 1...policy.attempts {
            do {
                let (data, response) = try await session.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                switch status {
                case 200..<300:
                    let limit = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Ping-Body-Limit").flatMap { Int($0) }
                    return .delivered(bodyLimit: limit)
                case 500..<600:
                    reason = "the server answered \(status)"
                default:
                    return .refused(status: status, message: String(decoding: data.prefix(200), as: UTF8.self))
                }
            } catch {
                reason = error.localizedDescription
            }
            if attempt < policy.attempts {
                try? await Task.sleep(for: .seconds(backoff))
                backoff *= 2
            }
        }
        return .unreachable(reason: reason)
    }
}
