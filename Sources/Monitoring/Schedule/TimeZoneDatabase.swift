import Foundation
import Synchronization

/// IANA time zones from the system's tz database, with "did you mean" suggestions.
public enum TimeZoneDatabase {
    /// Every name `zone(named:)` accepts, sorted.
    public static var names: [String] { allNames.sorted() }

    private static let allNames: Set<String> = {
        var names = SystemZoneNames.all ?? Set(TimeZone.knownTimeZoneIdentifiers)
        names.insert("UTC")
        return names.filter { TimeZone(identifier: $0) != nil }
    }()

    /// Lower-cased, Latin-transliterated spelling → name, for suggestions.
    private static let byKey: [String: String] = {
        var keys = [String: String]()
        for name in allNames.sorted() { keys[key(name)] = keys[key(name)] ?? name }
        return keys
    }()

    /// Whether `zone(named:)` knows the name, without building the zone.
    public static func isKnown(_ name: String) -> Bool { allNames.contains(name) }

    /// The zone with this exact IANA name (case-sensitive, as the tz database); "UTC" works.
    /// Built once per name: a fleet names a few dozen zones a million times.
    public static func zone(named name: String) -> TimeZone? {
        guard allNames.contains(name) else { return nil }
        if let known = built.withLock({ $0[name] }) { return known }
        guard let zone = TimeZone(identifier: name) else { return nil }
        built.withLock { $0[name] = zone }
        return zone
    }

    private static let built = Mutex<[String: TimeZone]>([:])

    /// The closest known name, e.g. "europe/riga" → "Europe/Riga", "Europe/Rига" (Cyrillic) →
    /// "Europe/Riga", "Riga" → "Europe/Riga", "America/New_Yrok" → "America/New_York"; nil if
    /// nothing is close (the name is known, or too different from every known name).
    public static func suggestion(for name: String) -> String? {
        if allNames.contains(name) { return nil }
        let wanted = key(name)
        guard !wanted.isEmpty else { return nil }
        if let exact = byKey[wanted] { return exact }
        let wantedChars = Array(wanted)
        // Closest by the best of whole name and (for a name without "/") city; ties go to the
        // closer whole name, then the shorter name ("UTC2" -> "UTC", not "Etc/UTC").
        var best: (name: String, distance: Int, whole: Int)?
        for (candidateKey, candidate) in byKey.sorted(by: { $0.key < $1.key }) {
            let whole = EditDistance.between(wantedChars, Array(candidateKey))
            var distance = whole
            if !wanted.contains("/"), let city = candidateKey.split(separator: "/").last {
                distance = min(distance, EditDistance.between(wantedChars, Array(city)))
            }
            if let current = best,
               (distance, whole, candidate.count) >= (current.distance, current.whole, current.name.count) {
                continue
            }
            best = (candidate, distance, whole)
        }
        guard let best else { return nil }
        let allowed = max(1, min(3, wantedChars.count / 4))
        return best.distance <= allowed ? best.name : nil
    }

    /// Comparison key: Latin letters (Cyrillic and Greek transliterated, accents removed),
    /// lower case, spaces as underscores.
    private static func key(_ name: String) -> String {
        var text = name
        if !text.allSatisfy(\.isASCII) {
            text = text.applyingTransform(.toLatin, reverse: false) ?? text
            text = text.applyingTransform(.stripDiacritics, reverse: false) ?? text
        }
        return text.lowercased().replacingOccurrences(of: " ", with: "_")
    }
}
