import Foundation

/// Durations in config: an integer number of seconds, or `<number><unit>` parts with units
/// `s m h d w`, e.g. `90s`, `1h30m`, `7d`.
public enum DurationSyntax {
    static let unitSeconds: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]

    /// The usual well-formed duration (`1h30m`), read from its bytes; nil for anything else,
    /// which the character walk below reads again to say what is wrong.
    private static func plainASCII(_ text: String) -> Int? {
        var total = 0
        var number = 0
        var digits = 0
        for byte in text.utf8 {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                guard digits < 18 else { return nil }
                number = number * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                continue
            }
            let unit: Int
            switch byte {
            case UInt8(ascii: "s"): unit = 1
            case UInt8(ascii: "m"): unit = 60
            case UInt8(ascii: "h"): unit = 3_600
            case UInt8(ascii: "d"): unit = 86_400
            case UInt8(ascii: "w"): unit = 604_800
            default: return nil
            }
            guard digits > 0 else { return nil }
            let (product, overflow1) = number.multipliedReportingOverflow(by: unit)
            let (sum, overflow2) = total.addingReportingOverflow(product)
            guard !overflow1, !overflow2 else { return nil }
            total = sum
            number = 0
            digits = 0
        }
        return digits == 0 ? total : nil
    }

    /// Seconds, or a message saying what is wrong (lower-case, quoting the value).
    static func parse(_ text: String) -> Result<Int, DurationError> {
        // The usual case first, before any Unicode property is looked up.
        if !text.isEmpty, let seconds = plainASCII(text) { return .success(seconds) }
        // (Foundation's trimming only where there is something to trim: it dominated a fleet's load.)
        let padded = text.first?.isWhitespace == true || text.last?.isWhitespace == true
        let trimmed = padded ? text.trimmingCharacters(in: .whitespaces) : text
        guard !trimmed.isEmpty else { return .failure(DurationError("duration is empty; write e.g. '90s', '1h30m' or '7d'")) }
        if let seconds = plainASCII(trimmed) { return .success(seconds) }
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
