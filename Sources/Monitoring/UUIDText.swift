import Foundation

/// The canonical text of check UUIDs (lower-case, hyphenated, as ping URLs and file names use
/// it), written and read without Foundation's `uuidString`/`init(uuidString:)`, which go through
/// `sprintf`/`sscanf` and showed in the ping path's profile (twice per ping).
extension UUID {
    /// Lower-case, hyphenated: `5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e0001`.
    public var lowercasedText: String {
        String(unsafeUninitializedCapacity: 36) { out in
            writeLowercased(to: UnsafeMutableRawBufferPointer(out))
            return 36
        }
    }

    /// `lowercasedText`'s 36 bytes appended to `bytes`, with no string made on the way (a
    /// registry of a million checks writes a million).
    public func appendLowercased(to bytes: inout [UInt8]) {
        var text: (UInt64, UInt64, UInt64, UInt64, UInt32) = (0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &text) { out in
            writeLowercased(to: out)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: out[..<36]))
        }
    }

    /// Writes the 36 bytes of `lowercasedText` at the start of `out`.
    private func writeLowercased(to out: UnsafeMutableRawBufferPointer) {
        withUnsafeBytes(of: uuid) { raw in
            let digits: StaticString = "0123456789abcdef"
            var index = 0
            for (position, byte) in raw.enumerated() {
                if position == 4 || position == 6 || position == 8 || position == 10 {
                    out[index] = UInt8(ascii: "-")
                    index += 1
                }
                out[index] = digits.utf8Start[Int(byte >> 4)]
                out[index + 1] = digits.utf8Start[Int(byte & 0x0f)]
                index += 2
            }
        }
    }

    /// Parses the canonical form only: 36 characters, hyphens at 8, 13, 18 and 23, lower-case
    /// hex digits elsewhere (Django's `uuid` path converter; upper case is no match).
    public init?(canonicalText text: Substring) {
        guard text.utf8.count == 36 else { return nil }
        guard let parsed = text.utf8.withContiguousStorageIfAvailable({ Self.parse($0) }) ?? Self.parse(Array(text.utf8)) else { return nil }
        self.init(uuid: parsed)
    }

    private static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> uuid_t? {
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &value) { out -> Bool in
            var high: UInt8? = nil
            var written = 0
            for (index, byte) in bytes.enumerated() {
                if index == 8 || index == 13 || index == 18 || index == 23 {
                    guard byte == UInt8(ascii: "-") else { return false }
                    continue
                }
                let nibble: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
                default: return false
                }
                if let first = high {
                    out[written] = first << 4 | nibble
                    written += 1
                    high = nil
                } else {
                    high = nibble
                }
            }
            return true
        }
        return parsed ? value : nil
    }

    /// The same, for the text's UTF-8.
    public init?(canonicalUTF8 bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == 36, let parsed = Self.parse(bytes) else { return nil }
        self.init(uuid: parsed)
    }

    public init?(canonicalText text: String) {
        self.init(canonicalText: text[...])
    }
}
