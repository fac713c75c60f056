import CheckCatalog
import Foundation

/// The line schema of `alerts/outbox.jsonl`, version 1 (docs/alerts.md): an `alert` line when a
/// notification is queued (`held` until its flip is stored: servers before issue 19), `confirmed`
/// or `withdrawn` when the flip was stored or not, an `attempt` line for every try, a `gave_up`
/// line when retries end, an `ingested` line when the alerts the store queued with their flips
/// (`alerts/queued.jsonl`) are in the outbox up to its `n`. An alert with a `hold` (SPEC §14)
/// waits until a `released` line makes it due, or a `withdrawn` line (with its `reason`)
/// finishes it unsent.
struct OutboxLine: Codable, Sendable {
    enum Kind: String, Codable, Sendable {
        case alert, attempt, confirmed, withdrawn, ingested, released
        case gaveUp = "gave_up"
    }

    var v = 1
    var type: Kind
    /// The alert's; nil only on an `ingested` line.
    var id: String?
    // alert
    var check: String?
    var project: String?
    var channel: String?
    var direction: String?
    var flipTime: Int64?
    var created: Int64?
    var values: AlertValues?
    /// alert: not to be sent before a `confirmed` line (its flip is being stored).
    var held: Bool?
    /// alert: a test notification, tried once.
    var test: Bool?
    /// alert: held back by maintenance or dependencies, due never until `released`.
    var hold: AlertHold?
    /// withdrawn: why it was never sent (absent on lines of servers before issue 23).
    var reason: String?
    // attempt
    /// attempt: its number (1, 2, ...); ingested: the store's queued alerts up to this number
    /// are in the outbox.
    var n: Int?
    var time: Int64?
    var outcome: Attempt.Outcome?
    var statusCode: Int?
    var exitStatus: Int32?
    var error: String?
    var duration: Int64?
    /// attempt: when the next try is due, when there is one.
    var nextAttempt: Int64?
    /// attempt: the receiver refused for good; no retry follows.
    var permanent: Bool?
    /// attempt: the SMTP relay's last reply.
    var reply: String?

    enum CodingKeys: String, CodingKey {
        case v, type, id, check, project, channel, direction, values, held, test, hold, reason, n, outcome, error, permanent, reply
        case flipTime = "flip_time_us"
        case created = "created_us"
        case time = "time_us"
        case statusCode = "status_code"
        case exitStatus = "exit_status"
        case duration = "duration_us"
        case nextAttempt = "next_attempt_us"
    }

    init(alert: Alert, held: Bool = false) {
        type = .alert
        self.held = held ? true : nil
        id = alert.id.uuidString.lowercased()
        check = alert.check.uuidString.lowercased()
        project = alert.project
        channel = alert.channel
        direction = alert.direction.rawValue
        flipTime = alert.flipTime
        created = alert.created
        values = alert.values
        test = alert.test ? true : nil
        hold = alert.hold
    }

    init(attempt: Attempt, n: Int, of id: UUID, nextAttempt: Int64?) {
        type = .attempt
        self.id = id.uuidString.lowercased()
        self.n = n
        time = attempt.time
        outcome = attempt.outcome
        statusCode = attempt.statusCode
        exitStatus = attempt.exitStatus
        error = attempt.error
        duration = attempt.duration
        permanent = attempt.permanent ? true : nil
        reply = attempt.reply
        self.nextAttempt = nextAttempt
    }

    init(ingestedThrough n: Int) {
        type = .ingested
        self.n = n
    }

    /// A `gave_up`, `confirmed`, `released` or `withdrawn` line.
    init(_ type: Kind, _ id: UUID, at time: Int64, reason: String? = nil) {
        self.type = type
        self.id = id.uuidString.lowercased()
        self.time = time
        self.reason = reason
    }

    var alert: Alert? {
        guard type == .alert, let id, let uuid = UUID(uuidString: id), let checkText = check, let check = UUID(uuidString: checkText),
            let project, let channel, let directionText = direction, let direction = Channel.Direction(rawValue: directionText),
            let flipTime, let created, let values
        else { return nil }
        return Alert(id: uuid, check: check, project: project, channel: channel, direction: direction, flipTime: flipTime, created: created, values: values,
            test: test == true, hold: hold)
    }

    var attempt: Attempt? {
        guard type == .attempt, let time, let outcome else { return nil }
        return Attempt(time: time, outcome: outcome, statusCode: statusCode, exitStatus: exitStatus, error: error, duration: duration ?? 0,
            permanent: permanent == true, reply: reply)
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        return data
    }
}
