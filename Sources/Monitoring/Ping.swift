import Foundation

/// One stored ping of a check (SPEC §2 "Stored per ping"), as Healthchecks' `Ping` model keeps it.
///
/// Times are microseconds since the Unix epoch: that is what the store writes, and an integer
/// keeps the hot path free of date formatting.
public struct Ping: Sendable, Hashable {
    /// What the ping did. Healthchecks' `Ping.kind` (its empty kind is our `success`).
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case success, start, fail, log, ign
    }

    /// Longest user agent kept, in characters (Healthchecks' `ua` column).
    public static let userAgentLimit = 200

    /// Sequence number within the check, from 1, as Healthchecks' `Ping.n`.
    public var n: Int
    /// Microseconds since the Unix epoch.
    public var time: Int64
    public var kind: Kind
    public var method: String
    /// `http` or `https`.
    public var scheme: String
    public var remoteAddress: String
    /// At most `userAgentLimit` characters (longer input is cut by `init`).
    public var userAgent: String
    /// The stored UTF-8 prefix of the body; nil when there was none or it was not UTF-8.
    public var body: String?
    /// Bytes received, so a body that was not stored (not UTF-8, or cut) is still noted.
    public var bodySize: Int
    /// 0-255 when the ping was an exit-status ping.
    public var exitStatus: Int?
    /// Run id from the `rid` query parameter.
    public var rid: UUID?
    /// Microseconds since the start this success or fail closed (SPEC §3), else nil.
    public var duration: Int64?

    public init(
        n: Int, time: Int64, kind: Kind, method: String, scheme: String, remoteAddress: String,
        userAgent: String, body: String?, bodySize: Int, exitStatus: Int? = nil, rid: UUID? = nil,
        duration: Int64? = nil
    ) {
        self.n = n
        self.time = time
        self.kind = kind
        self.method = method
        self.scheme = scheme
        self.remoteAddress = remoteAddress
        self.userAgent = Ping.truncatedUserAgent(userAgent)
        self.body = body
        self.bodySize = bodySize
        self.exitStatus = exitStatus
        self.rid = rid
        self.duration = duration
    }

    /// Cut to `userAgentLimit` characters, as Healthchecks' `ua[:200]` (it counts code points,
    /// we count Unicode scalars, the same thing for Python strings).
    public static func truncatedUserAgent(_ userAgent: String) -> String {
        let scalars = userAgent.unicodeScalars
        guard scalars.count > userAgentLimit else { return userAgent }
        var cut = String.UnicodeScalarView()
        cut.append(contentsOf: scalars.prefix(userAgentLimit))
        return String(cut)
    }
}
