/// Resolution of plain scalars under the YAML 1.2 core schema (not YAML 1.1: `yes`, `no`,
/// `on` and `off` stay strings).
enum CoreSchema {
    static func resolve(_ text: String) -> ScalarValue {
        guard let first = text.utf8.first else { return .null }
        switch first {
        case UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"):
            // Only null, true and false (three spellings each) start so; no number does. Most
            // keys and many values start with these letters: their length and first letter
            // leave three spellings at most to compare.
            switch (first | 0x20, text.utf8.count) {
            case (UInt8(ascii: "n"), 4): return text == "null" || text == "Null" || text == "NULL" ? .null : .string(text)
            case (UInt8(ascii: "t"), 4): return text == "true" || text == "True" || text == "TRUE" ? .bool(true) : .string(text)
            case (UInt8(ascii: "f"), 5): return text == "false" || text == "False" || text == "FALSE" ? .bool(false) : .string(text)
            default: return .string(text)
            }
        case UInt8(ascii: "~"):
            return text.utf8.count == 1 ? .null : .string(text)
        case UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            break
        default:
            // Nothing else can start anything but a string: no comparisons, no copy.
            return .string(text)
        }
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .float(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .float(-.infinity)
        case ".nan", ".NaN", ".NAN": return .float(.nan)
        default: break
        }
        let utf8 = Array(text.utf8)
        if let int = integer(utf8) { return int }
        if isFloat(utf8), let double = Double(text) { return .float(double) }
        return .string(text)
    }

    static func tagName(of value: ScalarValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        }
    }

    private static func integer(_ bytes: [UInt8]) -> ScalarValue? {
        if bytes.count > 2 && bytes[0] == UInt8(ascii: "0") {
            let digits = String(decoding: bytes[2...], as: UTF8.self)
            if bytes[1] == UInt8(ascii: "o"), bytes[2...].allSatisfy({ $0 >= 0x30 && $0 <= 0x37 }) {
                return Int(digits, radix: 8).map(ScalarValue.int) ?? .float(Double.infinity)
            }
            if bytes[1] == UInt8(ascii: "x"), bytes[2...].allSatisfy(\.isHexDigit) {
                return Int(digits, radix: 16).map(ScalarValue.int) ?? .float(Double.infinity)
            }
        }
        var digits = bytes[...]
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isDigit) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        if let value = Int(text) { return .int(value) }
        return Double(text).map(ScalarValue.float)
    }

    /// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
    private static func isFloat(_ bytes: [UInt8]) -> Bool {
        var i = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
        var mantissaDigits = 0
        while i < bytes.count, bytes[i].isDigit { i += 1; mantissaDigits += 1 }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.count, bytes[i].isDigit { i += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return false }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
            var exponentDigits = 0
            while i < bytes.count, bytes[i].isDigit { i += 1; exponentDigits += 1 }
            guard exponentDigits > 0 else { return false }
        }
        return i == bytes.count
    }
}

extension UInt8 {
    fileprivate var isDigit: Bool { self >= 0x30 && self <= 0x39 }
    fileprivate var isHexDigit: Bool { isDigit || (self >= 0x41 && self <= 0x46) || (self >= 0x61 && self <= 0x66) }
}
