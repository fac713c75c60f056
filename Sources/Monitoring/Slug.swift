import Foundation

/// Django's `slugify`, exactly (SPEC §1.4): the slug derived from a check's name.
public enum Slug {
    /// NFKD-normalize, drop non-ASCII, lower-case, keep `[A-Za-z0-9_]`, whitespace and `-`,
    /// collapse runs of whitespace and `-` into one `-`, strip leading/trailing `-` and `_`.
    public static func slugify(_ name: String) -> String {
        var kept: [UInt8] = []
        kept.reserveCapacity(name.utf8.count)
        func keep(_ byte: UInt8) {
            let lower = byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
            if isWord(lower) || isWhitespace(lower) || lower == 0x2D { kept.append(lower) }
        }
        if name.utf8.allSatisfy({ $0 < 0x80 }) {
            // NFKD leaves ASCII as it is: no normalization (most names, a million at a fleet's start).
            for byte in name.utf8 { keep(byte) }
        } else {
            for scalar in name.decomposedStringWithCompatibilityMapping.unicodeScalars where scalar.isASCII {
                keep(UInt8(scalar.value))
            }
        }
        var slug: [UInt8] = []
        slug.reserveCapacity(kept.count)
        var inSeparatorRun = false
        for byte in kept {
            if isWhitespace(byte) || byte == 0x2D {
                if !inSeparatorRun { slug.append(0x2D) }
                inSeparatorRun = true
            } else {
                slug.append(byte)
                inSeparatorRun = false
            }
        }
        let trimmed = slug.drop(while: isDashOrUnderscore).reversed().drop(while: isDashOrUnderscore).reversed()
        return String(decoding: Array(trimmed), as: UTF8.self)
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
