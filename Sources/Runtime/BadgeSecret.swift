import Foundation

/// The secret badge URLs are derived from (SPEC §13): each project's badge key, the signature
/// of a tag's badge URL and each check's badge UUID (`Server`'s `BadgeSigner`). Generated once
/// with the store, as the admin token: `<data>/badge-secret` (mode 0600, created exclusively),
/// or the `badge_secret` row of `kiothc_settings` that every instance on a shared PostgreSQL
/// store reads. Kept, so badge URLs stay valid across restarts; deleting it changes them all.
public struct BadgeSecret: Sendable {
    public static let fileName = "badge-secret"

    /// The secret's text (43 characters, 258 bits); never logged.
    public let text: String

    public init(_ text: String) {
        self.text = text
    }

    /// A fresh random secret, of the admin token's alphabet and length.
    public static func generated() -> BadgeSecret {
        BadgeSecret(AdminToken.generated().text)
    }

    /// The data directory's secret, created there (0600) on the first start.
    public static func load(dataDirectory: String) throws(AdminToken.Failure) -> BadgeSecret {
        let path = "\(dataDirectory)/\(fileName)"
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw AdminToken.Failure(message: "cannot read the badge secret file '\(path)'")
            }
            var text = String(decoding: data, as: UTF8.self)
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            guard text.count >= AdminToken.minimumLength, !text.contains(where: \.isWhitespace) else {
                throw AdminToken.Failure(
                    message:
                        "the badge secret file '\(path)' must hold one secret of at least \(AdminToken.minimumLength) characters without spaces; restore it, or delete it to generate a new one (every badge URL changes)"
                )
            }
            return BadgeSecret(text)
        }
        let secret = generated()
        try AdminToken.create(path, Array(secret.text.utf8) + [0x0A], what: "the badge secret file")
        return secret
    }
}
