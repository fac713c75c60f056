/// A ping in words, the same on the dashboard, in the CLI and in alerts (issue 26): its kind
/// with the exit status it carried, and a run's duration.
public enum PingText {
    /// "success", "start", "fail", "log", "ignored"; with the exit status of an exit-status
    /// ping: "fail (exit 3)", "success (exit 0)".
    public static func kind(_ kind: Ping.Kind, exitStatus: Int?) -> String {
        let name = kind == .ign ? "ignored" : kind.rawValue
        return exitStatus.map { "\(name) (exit \($0))" } ?? name
    }

    public static func kind(of ping: Ping) -> String { kind(ping.kind, exitStatus: ping.exitStatus) }

    /// A measured duration (microseconds) with the precision it deserves: "450 µs", "7 ms",
    /// "2.4 s", "42 s", "3 min 12 s", "2 h 5 min", "3 d 4 h". Cut, never rounded up, so a
    /// value never shows as the next unit ("59.96 s" is "59 s", not "60 s"); negative is "0 µs".
    public static func duration(micros: Int64) -> String {
        let value = max(0, micros)
        switch value {
        case ..<1_000: return "\(value) µs"
        case ..<1_000_000: return "\(value / 1_000) ms"
        case ..<10_000_000: return "\(value / 1_000_000).\(value / 100_000 % 10) s"
        default: break
        }
        let seconds = value / 1_000_000
        switch seconds {
        case ..<60: return "\(seconds) s"
        case ..<3_600: return pair(seconds / 60, "min", seconds % 60, "s")
        case ..<86_400: return pair(seconds / 3_600, "h", seconds / 60 % 60, "min")
        default: return pair(seconds / 86_400, "d", seconds / 3_600 % 24, "h")
        }
    }

    /// "3 min 12 s", or "3 min" when the smaller unit is 0.
    private static func pair(_ large: Int64, _ largeUnit: String, _ small: Int64, _ smallUnit: String) -> String {
        small == 0 ? "\(large) \(largeUnit)" : "\(large) \(largeUnit) \(small) \(smallUnit)"
    }
}
