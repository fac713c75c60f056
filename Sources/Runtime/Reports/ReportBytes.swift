import Alerting

/// Byte-level pieces of the report renderers, which write a fleet's report (100,000 checks,
/// tens of megabytes) into one buffer in a single pass instead of building strings of strings.
/// Each produces exactly the bytes of the string-based code it stands for.
enum ReportBytes {
    /// Only printable ASCII (0x20-0x7E): one byte, one character, one UTF-16 unit each, and
    /// nothing JSON or a terminal would treat specially except `"` and `\`.
    static func isPrintableASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    static func append(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }

    static func appendSpaces(_ count: Int, to out: inout [UInt8]) {
        if count > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: count)) }
    }

    /// `JSONValue.quote`: the string in quotes, escaped as alert bodies escape it.
    static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Nothing to escape in printable ASCII but quotes and backslashes; any other byte
        // (a control character, DEL, or the lead byte of U+2028/U+2029) takes the slow path.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != 0x7F && $0 != 0xE2 }) {
            out.append(contentsOf: text.utf8)
        } else {
            out.append(contentsOf: Template.escape(text, .json).utf8)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `null` for nil.
    static func appendJSONString(_ text: String?, to out: inout [UInt8]) {
        if let text { appendJSONString(text, to: &out) } else { append("null", to: &out) }
    }
}
