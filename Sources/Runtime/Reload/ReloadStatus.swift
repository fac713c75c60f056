import CheckCatalog
import Synchronization

/// The outcome of the last configuration load, for `/metrics`, `POST /-/reload` and the
/// dashboard's banner (SPEC §5, §7).
public struct ReloadStatus: Sendable {
    /// Microseconds since the Unix epoch of the last load attempt (the start counts).
    public var lastAttempt: Int64
    public var lastSucceeded: Bool
    /// Microseconds since the Unix epoch of the last successful load.
    public var lastSuccess: Int64
    /// `ConfigFingerprint.hash` of the configuration serving now.
    public var servingHash: UInt64
    /// Hash of the configuration last attempted (equal to `servingHash` after a success).
    var attemptedHash: UInt64
    /// The rejected configuration's diagnostics (errors and warnings) when the last attempt
    /// failed; the warnings of the serving one when it succeeded.
    public var diagnostics: [Diagnostic]
    /// Why the last attempt failed when it was not the configuration's fault (I/O, a missing
    /// config directory).
    public var failure: String?
    /// The git commit the config directory was at when the serving configuration was loaded
    /// (or last found unchanged); nil outside a git work tree (SPEC §16).
    public var servingCommit: GitRevision? = nil
}

/// The current `ReloadStatus`, replaced whole after each attempt.
public final class CurrentReloadStatus: Sendable {
    private let current: Mutex<ReloadStatus>

    public init(_ status: ReloadStatus) {
        current = Mutex(status)
    }

    public var snapshot: ReloadStatus { current.withLock { $0 } }

    public func update(_ change: (inout ReloadStatus) -> Void) {
        current.withLock { change(&$0) }
    }
}
