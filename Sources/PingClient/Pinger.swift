import Foundation

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
    private let client: CommandHTTPClient

    private init(policy: Policy, client: CommandHTTPClient) {
        self.policy = policy
        self.client = client
    }

    /// Runs `body` with a pinger for `server` (a URL: its scheme and host choose the proxy of
    /// `environment`), whose HTTP client is shut down afterwards.
    public static func with<T: Sendable>(
        policy: Policy = Policy(), server: URL, environment: [String: String] = ProcessInfo.processInfo.environment, _ body: (Pinger) async throws -> T
    ) async throws -> T {
        // Any finite timeout is accepted; beyond 30 years it is as good as none.
        try await CommandHTTPClient.with(timeout: .seconds(min(policy.timeout, 1e9)), server: server.absoluteString, environment: environment) { client in
            try await body(Pinger(policy: policy, client: client))
        }
    }

    public func ping(_ url: URL, body: String? = nil, userAgent: String) async -> Outcome {
        let headers = [("User-Agent", userAgent), ("Content-Type", "text/plain; charset=utf-8")]
        var reason = ""
        var backoff = policy.firstBackoff
        for attempt in 1...policy.attempts {
            do {
                let answer = try await client.send("POST", url.absoluteString, headers: headers, body: Array((body ?? "").utf8), bodyLimit: 200)
                switch answer.status {
                case 200..<300:
                    return .delivered(bodyLimit: answer.headers["ping-body-limit"].flatMap { Int($0) })
                case 500..<600:
                    reason = "the server answered \(answer.status)"
                default:
                    return .refused(status: answer.status, message: String(decoding: answer.body, as: UTF8.self))
                }
            } catch {
                reason = error.reason
            }
            if attempt < policy.attempts {
                try? await Task.sleep(for: .seconds(backoff))
                backoff *= 2
            }
        }
        return .unreachable(reason: reason)
    }
}
