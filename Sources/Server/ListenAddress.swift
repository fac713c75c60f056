import Runtime

/// Where a listener binds: `127.0.0.1:8000`, `[::1]:8000`, `0.0.0.0:80`, optionally prefixed
/// with `http://` or `https://` (a bare address is HTTPS when a TLS certificate is given).
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }

    public var host: String
    public var port: Int
    /// nil: decided by whether TLS is configured.
    public var scheme: Scheme?

    public static let defaults = [
        ListenAddress(host: "127.0.0.1", port: 8000, scheme: nil),
        ListenAddress(host: "::1", port: 8000, scheme: nil),
    ]

    public init(host: String, port: Int, scheme: Scheme?) {
        self.host = host
        self.port = port
        self.scheme = scheme
    }

    public init?(parsing text: String) {
        var rest = Substring(text)
        if rest.hasPrefix("http://") {
            scheme = .http
            rest = rest.dropFirst("http://".count)
        } else if rest.hasPrefix("https://") {
            scheme = .https
            rest = rest.dropFirst("https://".count)
        } else {
            scheme = nil
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        let hostPart: Substring
        let portPart: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let afterBracket = rest[rest.index(after: close)...]
            guard afterBracket.hasPrefix(":") else { return nil }
            portPart = afterBracket.dropFirst()
        } else {
            guard let colon = rest.lastIndex(of: ":") else { return nil }
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
            guard !hostPart.contains(":") else { return nil }  // IPv6 needs brackets
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (0...65_535).contains(port) else { return nil }
        host = String(hostPart)
        self.port = port
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(scheme.map { "\($0.rawValue)://" } ?? "")\(shownHost):\(port)"
    }
}
