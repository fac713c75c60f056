import Foundation

/// How ping URLs are printed in plans and reload logs. Ping keys are secrets (SPEC §1.2): a
/// slug URL shows `<PROJECT-ping-key>` in their place, so plans can be pasted into pull
/// requests and logs shipped anywhere.
public struct PingURLFormat: Sendable {
    /// Scheme, host and port, without a trailing slash; "" prints paths.
    public var base: String

    public init(base: String?) {
        var base = base ?? ""
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
    }

    public func uuidURL(_ uuid: String) -> String { "\(base)/ping/\(uuid)" }

    /// nil for an empty slug: the check has no slug URL.
    public func slugURL(project: String, slug: String) -> String? {
        slug.isEmpty ? nil : "\(base)/ping/<\(project)-ping-key>/\(slug)"
    }

    public static func name(_ uuid: UUID) -> String { uuid.uuidString.lowercased() }
}
