import CheckCatalog
import Foundation

/// One notification of one flip through one channel: what the outbox keeps until it is
/// delivered or given up.
public struct Alert: Sendable, Hashable, Identifiable {
    public var id: UUID
    /// The check's UUID.
    public var check: UUID
    /// The channel is looked up by project and name when sending, so its current URL and
    /// secrets are used.
    public var project: String
    public var channel: String
    public var direction: Channel.Direction
    /// Microseconds since the epoch: when the check flipped (the deadline, for a timeout).
    public var flipTime: Int64
    /// When the alert was queued.
    public var created: Int64
    public var values: AlertValues
    /// A test notification (`kiothc notify`, the dashboard's "send test"): no flip behind it,
    /// tried once, never retried.
    public var test: Bool
    /// Held back by maintenance or dependencies (SPEC §14): waits, due never, until settled.
    public var hold: AlertHold?

    public init(
        id: UUID = UUID(), check: UUID, project: String, channel: String, direction: Channel.Direction, flipTime: Int64, created: Int64,
        values: AlertValues, test: Bool = false, hold: AlertHold? = nil
    ) {
        self.id = id
        self.check = check
        self.project = project
        self.channel = channel
        self.direction = direction
        self.flipTime = flipTime
        self.created = created
        self.values = values
        self.test = test
        self.hold = hold
    }
}

/// One try at delivering an alert, as recorded in the outbox.
public struct Attempt: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// 2xx from the webhook, exit status 0 from the command.
        case delivered
        /// Anything else; retried later.
        case failed
    }

    public var time: Int64
    public var outcome: Outcome
    /// The webhook's HTTP status, when it answered.
    public var statusCode: Int?
    /// The command's exit status, when it exited.
    public var exitStatus: Int32?
    /// What went wrong, for a person; never carries a secret's value.
    public var error: String?
    /// Microseconds the attempt took.
    public var duration: Int64
    /// The receiver refused for good (an SMTP 5xx reply): no retry follows.
    public var permanent: Bool
    /// The SMTP relay's last reply (`250 2.0.0 Ok: queued as 4F2A1`, `550 5.1.1 no such user`).
    public var reply: String?

    public init(
        time: Int64, outcome: Outcome, statusCode: Int? = nil, exitStatus: Int32? = nil, error: String? = nil, duration: Int64 = 0, permanent: Bool = false,
        reply: String? = nil
    ) {
        self.time = time
        self.outcome = outcome
        self.statusCode = statusCode
        self.exitStatus = exitStatus
        self.error = error
        self.duration = duration
        self.permanent = permanent
        self.reply = reply
    }
}
