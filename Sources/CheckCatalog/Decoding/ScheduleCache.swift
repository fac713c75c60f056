import Monitoring
import Synchronization

/// Schedules parsed once per configuration load: a fleet repeats a handful of expressions
/// ("0 3 * * *", "daily") across thousands of checks, and parsing one (with its time zone and
/// the check that it ever fires) costs far more than looking it up. Shared by the threads of
/// one load; dropped with it.
final class ScheduleCache: Sendable {
    private let parsed = Mutex<[String: Result<Schedule, ScheduleError>]>([:])

    func schedule(_ expression: String) throws(ScheduleError) -> Schedule {
        if let known = parsed.withLock({ $0[expression] }) { return try known.get() }
        let result = Result { () throws(ScheduleError) in try Schedule(parsing: expression) }
        parsed.withLock { $0[expression] = result }
        return try result.get()
    }
}
