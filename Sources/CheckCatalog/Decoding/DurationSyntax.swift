import Foundation

/// Durations in config: an integer number of seconds, or `<number><unit>` parts with units
/// `s m h d w`, e.g. `90s`, `1h30m`, `7d`.
public enum DurationSyntax {
    static let unitSeconds: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]

    /// Seconds, or a message saying what is wrong (lower-case, quoting the value).
    static func parse(_ text: String) -> Result<Int, DurationError> {
        // (Foundation's trimming only where there is something to trim: it dominated a fleet's load.)
        let padded = text.first?.isWhitespace == true || text.last?.isWhitespace == true
        let trimmed = padded ? text.trimmingCharacters(in: .whitespaces) : text
        guard !trimmed.isEmpty else { return .failure(DurationError("duration is empty; write e.g. '90s', '1h30m' or '7d'")) }
        var total = 0
        var number = ""
        for character in trimmed {
            if character.isASCII, character.isNumber {
                number.append(character)
            } else if let unit = unitSeconds[character] {
                guard let value = Int(number) else {
                    return .failure(DurationError("invalid duration '\(text)': a number must come before '\(character)'"))
                }
                let (product, overflow1) = value.multipliedReportingOverflow(by: unit)
                let (sum, overflow2) = total.addingReportingOverflow(product)
                guard !overflow1, !overflow2 else { return .failure(DurationError("duration '\(text)' is too large")) }
                total = sum
                number = ""
            } else if character.isWhitespace {
                return .failure(DurationError("invalid duration '\(text)': write it without spaces, e.g. '2h' or '1h30m'"))
            } else if character == "." {
                return .failure(DurationError("invalid duration '\(text)': use whole numbers, e.g. '1h30m' instead of '1.5h'"))
            } else {
                return .failure(DurationError("invalid duration '\(text)': unknown unit '\(character)'; units are s, m, h, d, w"))
            }
        }
        if !number.isEmpty {
            return .failure(DurationError("invalid duration '\(text)': '\(number)' has no unit; write '\(number)s' or use a plain integer of seconds"))
        }
        return .success(total)
    }

    /// A `1d6h30m`-style spelling of a number of seconds, for messages and plans (no weeks,
    /// so 365 days reads as `365d`).
    public static func format(_ seconds: Int) -> String {
        if seconds <= 0 { return "\(seconds)s" }
        var rest = seconds
        var text = ""
        for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }
}

struct DurationError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
