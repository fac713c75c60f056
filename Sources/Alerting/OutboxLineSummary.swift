/// What compaction needs of an outbox line: its type, alert id and creation time, read from
/// the top level of the JSON object without decoding the rest. JSONDecoder decoding every line
/// was most of a compaction, and a compaction of a fleet's 100,000 pending alerts held the
/// outbox (and the flips waiting to hand it their alerts) for seconds.
///
/// nil when the line is not one JSON object with an integer `v` and a `type` of a known kind,
/// or whose `id` or `created_us`, when present, are not a string and an integer: such a line
/// is left where it is, as the open skips it. (A line whose other fields have the wrong types,
/// which only a hand edit makes, is read here and skipped by the open.)
struct OutboxLineSummary: Equatable {
    var type: OutboxLine.Kind
    var id: String?
    var created: Int64?

    init?(_ line: UnsafeRawBufferPointer) {
        var scanner = Scanner(bytes: line)
        guard let fields = scanner.topLevel(), case .integer? = fields.v, case .string(let type)? = fields.type,
              let kind = OutboxLine.Kind(rawValue: type) else { return nil }
        self.type = kind
        switch fields.id {
        case nil: id = nil
        case .string(let text)?: id = text
        default: return nil
        }
        switch fields.created {
        case nil: created = nil
        case .integer(let value)?: created = value
        default: return nil
        }
    }

    init(type: OutboxLine.Kind, id: String?, created: Int64?) {
        self.type = type
        self.id = id
        self.created = created
    }

    enum Value: Equatable {
        case string(String)
        case integer(Int64)
        case other
    }

    /// A single pass over one JSON object: strings (with escapes), nesting and scalars are
    /// checked for shape; the values of four top-level keys are kept.
    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func topLevel() -> (v: Value?, type: Value?, id: Value?, created: Value?)? {
            var fields: (v: Value?, type: Value?, id: Value?, created: Value?) = (nil, nil, nil, nil)
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return nil }
            skipSpace()
            if !take(UInt8(ascii: "}")) {
                repeat {
                    skipSpace()
                    guard let key = string() else { return nil }
                    skipSpace()
                    guard take(UInt8(ascii: ":")) else { return nil }
                    skipSpace()
                    guard let value = value(keep: key == "type" || key == "id" || key == "created_us") else { return nil }
                    switch key {
                    case "v": fields.v = value
                    case "type": fields.type = value
                    case "id": fields.id = value
                    case "created_us": fields.created = value
                    default: break
                    }
                    skipSpace()
                } while take(UInt8(ascii: ","))
                guard take(UInt8(ascii: "}")) else { return nil }
            }
            skipSpace()
            return index == bytes.count ? fields : nil
        }

        private mutating func value(keep: Bool) -> Value? {
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                guard let text = string() else { return nil }
                return keep ? .string(text) : .other
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                return container() ? .other : nil
            default:
                let start = index
                while index < bytes.count, !Self.ends(bytes[index]) { index += 1 }
                guard index > start else { return nil }
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                if let integer = Int64(text) { return .integer(integer) }
                guard ["true", "false", "null"].contains(text) || Double(text) != nil else { return nil }
                return .other
            }
        }

        /// An object or array, nested ones included, checked for balanced brackets and whole
        /// strings only.
        private mutating func container() -> Bool {
            var open: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    guard string() != nil else { return false }
                    continue
                case UInt8(ascii: "{"): open.append(UInt8(ascii: "}"))
                case UInt8(ascii: "["): open.append(UInt8(ascii: "]"))
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard open.popLast() == byte else { return false }
                    if open.isEmpty {
                        index += 1
                        return true
                    }
                default: break
                }
                index += 1
            }
            return false
        }

        /// A JSON string at `index`, as written: escapes are not undone (the keys and values
        /// read here, kinds and UUIDs, have none; one that has some matches no pending alert,
        /// as its decoded text would not either).
        private mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\") {
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") {
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    return String(decoding: raw, as: UTF8.self)
                }
                if byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        private static func ends(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte == 0x20 || byte == 0x09
                || byte == 0x0A || byte == 0x0D
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0D || bytes[index] == 0x0A { index += 1 }
        }
    }
}
