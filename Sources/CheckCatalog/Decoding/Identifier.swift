/// Project ids, check keys and channel names: `[a-z0-9][a-z0-9_-]*`, at most 64 characters.
/// They appear in URLs, file names and `project/key` references, so they stay plain.
enum Identifier {
    static let maxLength = 64
    static let rule = "lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 64 characters"

    static func isValid(_ text: String) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= maxLength, isAlphanumeric(first) else { return false }
        return text.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A)
    }
}
