import Crypto
import Foundation
import Runtime

/// Badge identities derived from the store's badge secret (SPEC §13), so nothing per project or
/// per check needs storing and every URL survives restarts and reloads:
/// - a project's badge key: a UUID-shaped HMAC of its id (Healthchecks gives new projects a
///   random UUID as badge key);
/// - a tag's signature: the first 8 characters (URL-safe base64) of an HMAC of badge key and
///   tag; URLs of the two-state badge add `-2`, as Healthchecks' do;
/// - a check's badge UUID: a UUID-shaped HMAC of its ping UUID, which it does not reveal.
struct BadgeSigner: Sendable {
    private let key: SymmetricKey

    init(secret: BadgeSecret) {
        key = SymmetricKey(data: Array(secret.text.utf8))
    }

    func badgeKey(project: String) -> String {
        Self.uuidText(mac("project\u{0}\(project)"))
    }

    func signature(badgeKey: String, tag: String) -> String {
        let encoded = Data(mac("tag\u{0}\(badgeKey)\u{0}\(tag)")).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        return String(encoded.prefix(8))
    }

    /// Whether `given` signs the tag. As Healthchecks, only its first 8 characters count (the
    /// two-state suffix `-2` follows them); compared in constant time.
    func verifies(_ given: String, badgeKey: String, tag: String) -> Bool {
        let prefix = Array(given.utf8.prefix(8))
        let expected = Array(signature(badgeKey: badgeKey, tag: tag).utf8)
        guard prefix.count == expected.count else { return false }
        return zip(prefix, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func checkBadge(_ check: UUID) -> String {
        Self.uuidText(mac("check\u{0}\(check.uuidString.lowercased())"))
    }

    private func mac(_ message: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: key))
    }

    /// 16 bytes as a lower-case UUID with version 4 and variant bits set.
    private static func uuidText(_ bytes: [UInt8]) -> String {
        var b = Array(bytes.prefix(16))
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        let hex = Array(b.map { String(format: "%02x", $0) }.joined())
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
    }
}
