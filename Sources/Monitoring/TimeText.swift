/// Durations and times relative to now, as the dashboard and `kiothc status` print them.
public enum TimeText {
    /// Seconds as Healthchecks shows them: "1 day", "2 hours 30 minutes", "90 seconds" → "1 minute 30 seconds".
    public static func duration(_ seconds: Int) -> String {
        var rest = seconds
        var parts: [String] = []
        for (unit, size) in [("week", 604_800), ("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)] where rest >= size {
            let count = rest / size
            rest %= size
            parts.append("\(count) \(unit)\(count == 1 ? "" : "s")")
            if parts.count == 2 { break }
        }
        return parts.isEmpty ? "0 seconds" : parts.joined(separator: " ")
    }

    /// "3 minutes ago", "in 2 hours": relative to now, rounded to one unit.
    public static func relative(_ micros: Int64, now: Int64) -> String {
        let delta = Int((micros - now) / 1_000_000)
        let magnitude = abs(delta)
        let past = micros <= now
        let text: String
        switch magnitude {
        case ..<60: text = "\(magnitude) s"
        case ..<3_600: text = "\(magnitude / 60) min"
        case ..<86_400: text = "\(magnitude / 3_600) h"
        default: text = "\(magnitude / 86_400) d"
        }
        return past ? "\(text) ago" : "in \(text)"
    }
}
