import Foundation

/// Django's `slugify`, exactly (SPEC §1.4): the slug derived from a check's name.
public enum Slug {
    /// NFKD-normalize, drop non-ASCII, lower-case, keep `[A-Za-z0-9_]`, whitespace and `-`,
    /// collapse runs of whitespace and `-` into one `-`, strip leading/trailing `-` and `_`.
    public static func slugify(_ name: String) -> String {
        // NFKD leaves ASCII as it is: no normalization (most names, a million at a fleet's start).
        if name.utf8.allSatisfy({ $0 < 0x80 }) { return slug(ofASCII: name.utf8) }
        let ascii = name.decomposedStringWithCompatibilityMapping.unicodeScalars.lazy.filter(\.isASCII).map { UInt8($0.value) }
        return slug(ofASCII: Array(ascii))
    }

    /// The slug of ASCII text, in one pass into the string's own storage: a separator run
    /// (whitespace and `-`) is written as one `-` only once a kept character follows it, and
    /// nothing is written before the first character the leading strip would keep; the
    /// trailing `-` and `_` are cut at the end.
    private static func slug(ofASCII bytes: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { buffer in
            var count = 0
            var separatorPending = false
            for byte in bytes {
                let lower = byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
                if isWhitespace(lower) || lower == 0x2D {
                    separatorPending = count > 0
                    continue
                }
                guard isWord(lower), count > 0 || lower != 0x5F else { continue }
                if separatorPending {
                    buffer[count] = 0x2D
                    count += 1
                    separatorPending = false
                }
                buffer[count] = lower
                count += 1
            }
            while count > 0, isDashOrUnderscore(buffer[count - 1]) { count -= 1 }
            return count
        }
    }

    /// Whether `slug` is a well-formed slug URL segment: what `slugify` can produce.
    public static func isValid(_ slug: String) -> Bool {
        !slug.isEmpty && slugify(slug) == slug
    }

    private static func isWord(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
    }

    /// Python's `\s` on ASCII text: space, \t \n \v \f \r and the separators \x1c-\x1f.
    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) || (byte >= 0x1C && byte <= 0x1F)
    }

    private static func isDashOrUnderscore(_ byte: UInt8) -> Bool { byte == 0x2D || byte == 0x5F }
}
