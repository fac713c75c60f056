/// Which evaluator a schedule string uses (SPEC §3): cron iff it is one line of 5
/// whitespace-separated fields, else systemd OnCalendar.
public enum ScheduleKind: String, Sendable {
    case cron
    case onCalendar = "oncalendar"
}
