import Foundation

/// A ping as the router hands it over, before the check's state numbers it and measures it.
public struct ReceivedPing: Sendable, Hashable {
    /// What the URL asked for. `ign` is never requested: the state decides it.
    public enum Signal: Sendable, Hashable {
        case success, start, fail, log
        /// `/ping/<uuid>/<exit-status>`: 0 is a success, 1-255 a fail.
        case exitStatus(Int)
    }

    public var signal: Signal
    public var method: String
    public var scheme: String
    public var remoteAddress: String
    public var userAgent: String
    public var body: String?
    public var bodySize: Int
    public var rid: UUID?

    public init(
        signal: Signal, method: String, scheme: String = "http", remoteAddress: String = "",
        userAgent: String = "", body: String? = nil, bodySize: Int = 0, rid: UUID? = nil
    ) {
        self.signal = signal
        self.method = method
        self.scheme = scheme
        self.remoteAddress = remoteAddress
        self.userAgent = userAgent
        self.body = body
        self.bodySize = bodySize
        self.rid = rid
    }

    /// The kind the signal asks for, before the check's rules (POST-only, manual resume) apply.
    public var requestedKind: Ping.Kind {
        switch signal {
        case .success: .success
        case .start: .start
        case .fail: .fail
        case .log: .log
        case .exitStatus(let status): status == 0 ? .success : .fail
        }
    }

    var exitStatus: Int? {
        if case .exitStatus(let status) = signal { return status }
        return nil
    }
}
