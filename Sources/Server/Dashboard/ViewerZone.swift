import Foundation
import Monitoring

/// The time zone the viewer reads times in (issue 26): named by the `kiothc_tz` cookie, which
/// the selector (`GET /timezone`) writes. UTC without one. A value that is not an IANA name
/// the server knows is ignored (times stay in UTC) and the page says so: a cookie is never a
/// reason for an error page.
struct ViewerZone: Sendable {
    static let cookie = "kiothc_tz"
    /// Longer values are not looked up (the longest IANA name has about 32 characters).
    static let nameLimit = 64

    static let utc = ViewerZone(name: "UTC", zone: TimeZone(identifier: "UTC") ?? .gmt, note: nil)

    /// The IANA name ("UTC" for UTC).
    let name: String
    let zone: TimeZone
    /// Why the cookie's value was ignored, for the page; nil when it was not.
    let note: String?

    private init(name: String, zone: TimeZone, note: String?) {
        self.name = name
        self.zone = zone
        self.note = note
    }

    /// The zone `name` names, or nil with what is wrong with it.
    static func named(_ name: String) -> Result<ViewerZone, Problem> {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed == "UTC" { return .success(.utc) }
        guard trimmed.count <= nameLimit else { return .failure(Problem(value: String(trimmed.prefix(nameLimit)) + "…", suggestion: nil)) }
        guard let zone = TimeZoneDatabase.zone(named: trimmed) else {
            return .failure(Problem(value: trimmed, suggestion: TimeZoneDatabase.suggestion(for: trimmed)))
        }
        return .success(ViewerZone(name: trimmed, zone: zone, note: nil))
    }

    struct Problem: Error {
        let value: String
        let suggestion: String?

        var message: String {
            "The time zone '\(value)' is not one this server knows\(suggestion.map { " (did you mean \($0)?)" } ?? ""); times are shown in UTC."
        }
    }

    /// The zone of a `kiothc_tz` cookie's value (percent-encoded as `cookieValue` writes it);
    /// UTC without one, UTC with a note for one that names no known zone.
    init(cookie value: String?) {
        guard let value, !value.isEmpty else {
            self = .utc
            return
        }
        let decoded = value.count <= Self.nameLimit * 3 ? value.removingPercentEncoding ?? value : value
        switch Self.named(decoded) {
        case .success(let zone): self = zone
        case .failure(let problem): self = ViewerZone(name: "UTC", zone: Self.utc.zone, note: problem.message)
        }
    }

    /// `name` as a cookie value: characters of IANA names as they are, the rest percent-encoded
    /// (a cookie value has no spaces, quotes, commas, semicolons or backslashes).
    static func cookieValue(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: cookieSafe) ?? "UTC"
    }

    private static let cookieSafe = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-.")

    // MARK: Times in this zone

    /// Seconds east of UTC at the instant `micros`.
    func offset(at micros: Int64) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
    }

    /// The wall time at `micros` as `UTCTime.readable` writes it, without the zone.
    private func wall(_ micros: Int64) -> String {
        let (shifted, overflow) = micros.addingReportingOverflow(Int64(offset(at: micros)) * 1_000_000)
        return String(UTCTime.readable(overflow ? micros : shifted).dropLast())
    }

    /// "2024-05-01 14:00:00 +02:00 (Europe/Riga)"; in UTC "2024-05-01 12:00:00 UTC".
    func readable(_ micros: Int64) -> String {
        name == "UTC" ? "\(wall(micros)) UTC" : "\(wall(micros)) \(Self.offsetText(offset(at: micros))) (\(name))"
    }

    /// "10:40" for a time on the same day as `now` (in this zone), else "2024-05-02 10:40".
    func clock(_ micros: Int64, now: Int64) -> String {
        let text = wall(micros)
        let day = text.prefix(10)
        let minutes = text.dropFirst(11).prefix(5)
        return day == wall(now).prefix(10) ? String(minutes) : "\(day) \(minutes)"
    }

    /// "+02:00", "-03:30", "+05:45".
    static func offsetText(_ seconds: Int) -> String {
        let magnitude = abs(seconds) / 60
        let hours = magnitude / 60
        let minutes = magnitude % 60
        return "\(seconds < 0 ? "-" : "+")\(hours < 10 ? "0" : "")\(hours):\(minutes < 10 ? "0" : "")\(minutes)"
    }
}
