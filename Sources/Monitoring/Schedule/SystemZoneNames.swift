import Foundation

/// The names in the system's tz database, read once from `/usr/share/zoneinfo/tzdata.zi`.
///
/// This is the one place where the domain module reads a file, and on purpose: Foundation's
/// `TimeZone(identifier:)` (ICU) also accepts names that are not in the tz database ("PST",
/// "SystemV/AST4", "GMT+0300"), and `knownTimeZoneIdentifiers` omits its aliases ("US/Eastern",
/// "Asia/Calcutta"). Python's `zoneinfo`, which Healthchecks uses, accepts exactly the names of
/// the system database, and so must we. The file is read lazily, once per process.
enum SystemZoneNames {
    static let path = "/usr/share/zoneinfo/tzdata.zi"

    /// nil when the file is missing or unreadable (then Foundation's list is used instead).
    static let all: Set<String>? = {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return parse(String(decoding: data, as: UTF8.self))
    }()

    /// `Z name …` lines declare zones, `L target name` lines aliases.
    static func parse(_ text: String) -> Set<String>? {
        var names = Set<String>()
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            if words.count >= 2, words[0] == "Z" {
                names.insert(String(words[1]))
            } else if words.count >= 3, words[0] == "L" {
                names.insert(String(words[2]))
            }
        }
        return names.isEmpty ? nil : names
    }
}
