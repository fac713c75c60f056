import Foundation

/// Where `kiothc run` sends its pings: a full ping URL, a UUID on a server, or a project's
/// ping key and a check's slug on a server.
public struct PingTarget: Sendable, Equatable {
    /// The check's ping URL without a suffix, e.g. `https://hc.example.com/ping/<uuid>`.
    public let base: URL

    public init(pingURL: String) throws(PingTargetError) {
        var text = pingURL
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else {
            throw PingTargetError("'\(pingURL)' is not an http:// or https:// ping URL")
        }
        base = url
    }

    public init(server: String, uuid: String) throws(PingTargetError) {
        guard let parsed = UUID(uuidString: uuid) else { throw PingTargetError("'\(uuid)' is not a UUID") }
        try self.init(pingURL: Self.trimmed(server) + "/ping/" + parsed.uuidString.lowercased())
    }

    public init(server: String, pingKey: String, slug: String) throws(PingTargetError) {
        guard !pingKey.isEmpty else { throw PingTargetError("the ping key is empty") }
        guard pingKey.utf8.allSatisfy(Self.isSlugByte) else { throw PingTargetError("the ping key has characters a URL segment cannot hold") }
        guard !slug.isEmpty, slug.utf8.allSatisfy(Self.isSlugByte), slug == slug.lowercased() else {
            throw PingTargetError("'\(slug)' is not a slug (lower-case letters, digits, '-' and '_'); `kiothc slug NAME` prints one")
        }
        try self.init(pingURL: Self.trimmed(server) + "/ping/" + pingKey + "/" + slug)
    }

    /// The start ping of run `rid`.
    public func start(rid: UUID) -> URL {
        url(suffix: "/start", rid: rid)
    }

    /// The exit-status ping of run `rid`: 0 is a success, 1-255 a fail.
    public func exitStatus(_ status: Int32, rid: UUID) -> URL {
        url(suffix: "/\(min(max(status, 0), 255))", rid: rid)
    }

    private func url(suffix: String, rid: UUID) -> URL {
        var components = URLComponents(url: base.appendingPathComponent(String(suffix.dropFirst())), resolvingAgainstBaseURL: false)
        var items = components?.queryItems ?? []
        items.append(URLQueryItem(name: "rid", value: rid.uuidString.lowercased()))
        components?.queryItems = items
        return components?.url ?? base
    }

    private static func trimmed(_ server: String) -> String {
        var text = server
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    private static func isSlugByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }
}

public struct PingTargetError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
