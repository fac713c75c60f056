/// Placeholder substitution in channel templates (SPEC §6).
///
/// One left-to-right pass: `$` followed by a known placeholder name (longest match) is replaced
/// by its value, escaped for where it lands; any other `$` is kept. Values are never scanned
/// again, so a ping body holding `$NAME` (or shell syntax) stays inert.
public enum Template {
    public enum Escaping: Sendable {
        /// As is (plain text bodies, header values).
        case none
        /// Percent-encoded: every byte outside RFC 3986's unreserved set (URLs).
        case percent
        /// The inside of a JSON string: quotes, backslashes and control characters escaped.
        case json
        /// A single-quoted shell word (commands run through `/bin/sh -c`).
        case shell
    }

    static let names = ["EXITSTATUS", "PROJECT", "STATUS", "NAME", "SLUG", "CODE", "TAGS", "BODY", "NOW"]

    public static func render(_ template: String, _ values: AlertValues, escaping: Escaping) -> String {
        let byName = values.byName
        var output = ""
        var rest = Substring(template)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if let name = names.first(where: { after.hasPrefix($0) }), let value = byName[name] {
                output += escape(value, escaping)
                rest = after.dropFirst(name.count)
            } else {
                output += "$"
                rest = after
            }
        }
        output += rest
        return output
    }

    public static func escape(_ value: String, _ escaping: Escaping) -> String {
        switch escaping {
        case .none: return value
        case .percent: return percentEncoded(value)
        case .json: return jsonEscaped(value)
        case .shell: return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
    }

    static func percentEncoded(_ value: String) -> String {
        var output = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return output
    }

    static func jsonEscaped(_ value: String) -> String {
        var output = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{2028}": output += "\\u2028"
            case "\u{2029}": output += "\\u2029"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output
    }

    /// A body is JSON when the request says so (`Content-Type` containing `json`, e.g.
    /// `application/json` or `application/vnd.x+json`) or, with no `Content-Type`, when it starts
    /// (after white space) with `{` or `[`.
    public static func isJSON(body: String, contentType: String?) -> Bool {
        if let contentType { return contentType.lowercased().contains("json") }
        let first = body.unicodeScalars.first { !($0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r") }
        return first == "{" || first == "["
    }
}
