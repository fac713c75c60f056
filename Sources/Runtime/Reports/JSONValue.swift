import Alerting
import Foundation

/// A JSON document with its keys in a fixed order, so API responses and `--format json` output
/// list fields as Healthchecks does and stay byte-stable; `null` is written, not dropped.
public indirect enum JSONValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.rendered() == b.rendered() }

    public static func string(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
    public static func int(_ value: Int) -> JSONValue { .int(Int64(value)) }

    /// Compact JSON, or indented by two spaces per level.
    public func rendered(pretty: Bool = false) -> String {
        var out = ""
        write(to: &out, pretty: pretty, level: 0)
        return out
    }

    private func write(to out: inout String, pretty: Bool, level: Int) {
        switch self {
        case .string(let text): Self.quote(text, into: &out)
        case .int(let value): out += String(value)
        case .double(let value):
            // Seconds with microseconds: never exponent notation, never NaN (not JSON).
            out += value.isFinite ? String(format: "%.6f", value).replacingOccurrences(of: #"\.?0+$"#, with: "", options: .regularExpression) : "null"
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: level + 1) }
                item.write(to: &out, pretty: pretty, level: level + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: level) }
            out += "]"
        case .object(let fields):
            if fields.isEmpty { out += "{}"; return }
            out += "{"
            for (index, (key, value)) in fields.enumerated() {
                if index > 0 { out += pretty ? "," : ", " }
                if pretty { out += "\n" + String(repeating: "  ", count: level + 1) }
                Self.quote(key, into: &out)
                out += ": "
                value.write(to: &out, pretty: pretty, level: level + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: level) }
            out += "}"
        }
    }

    /// The same JSON string escaping as alert bodies use (control characters, U+2028/9, DEL).
    public static func quote(_ text: String, into out: inout String) {
        out += "\""
        out += Template.escape(text, .json)
        out += "\""
    }
}
