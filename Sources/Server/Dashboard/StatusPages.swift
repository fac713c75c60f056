import CheckCatalog
import Crypto
import Foundation
import Runtime

/// The public status pages (issue 26): a project with `status_page: true` has one at
/// `/status/<key>`, read-only and without a login, showing only its checks' names and statuses.
///
/// The key is derived, as the badge keys are (`BadgeSigner`), from the store's badge secret
/// (258 random bits from the system's CSPRNG, kept in `<data>/badge-secret` with mode 0600 or
/// in the shared database): an HMAC-SHA256 of the project id under a label of its own, 192 bits
/// as 32 URL-safe base64 characters. So nothing per project needs storing, the URL survives
/// restarts and reloads, is the same on every instance of a shared store, and cannot be
/// guessed from the project's id or from its badge URLs. Deleting `badge-secret` changes
/// every badge and status page URL.
struct StatusPages: Sendable {
    private let key: SymmetricKey

    init(secret: BadgeSecret) {
        key = SymmetricKey(data: Array(secret.text.utf8))
    }

    /// The status page key of `project` (whether or not it has a page).
    func key(project: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("status page\u{0}\(project)".utf8), using: key)
        let encoded = Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        return String(encoded.prefix(32))
    }

    /// `/status/<key>` of each project that has a page, in catalog order.
    func paths(_ catalog: Catalog) -> [(project: Project, path: String)] {
        catalog.projects.filter(\.statusPage).map { ($0, "/status/\(key(project: $0.id))") }
    }

    /// The project whose page `given` is the key of; nil for any other text (compared in
    /// constant time with each page's key, so the answer's timing says nothing of them).
    func project(forKey given: String, in catalog: Catalog) -> Project? {
        let bytes = Array(given.utf8)
        var found: Project?
        for project in catalog.projects where project.statusPage {
            let expected = Array(key(project: project.id).utf8)
            guard bytes.count == expected.count else { continue }
            if zip(bytes, expected).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 { found = project }
        }
        return found
    }
}
