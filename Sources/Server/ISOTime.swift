import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Times as Healthchecks prints them: ISO 8601 in UTC with a `+00:00` offset. Microseconds
/// since the epoch in; no Foundation formatter on the request path.
public enum ISOTime {
    /// Whole seconds, as Healthchecks' `isostring` (check `last_ping`, `next_ping`, flips).
    public static func seconds(_ micros: Int64) -> String {
        format(micros.floorDivided(by: 1_000_000), fraction: nil)
    }

    /// With microseconds when they are not zero, as Python's `datetime.isoformat()` (ping `date`).
    public static func precise(_ micros: Int64) -> String {
        let fraction = micros.floorModulo(1_000_000)
        return format(micros.floorDivided(by: 1_000_000), fraction: fraction == 0 ? nil : Int(fraction))
    }

    /// `2024-05-01 12:00:00 UTC`-style, for tables and the dashboard.
    public static func readable(_ micros: Int64) -> String {
        let text = seconds(micros)
        return text.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "+00:00", with: "Z")
    }

    private static func format(_ seconds: Int64, fraction: Int?) -> String {
        var time = time_t(clamping: seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "1970-01-01T00:00:00+00:00" }
        var text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        if let fraction { text += String(format: ".%06d", fraction) }
        return text + "+00:00"
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }

    func floorModulo(_ divisor: Int64) -> Int64 {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}
