import Foundation

/// The mail relay the server hands its mail to, from its URL (`--smtp`, SPEC §12):
///
/// - `smtp://[user[:password]@]host[:port]`: port 587, STARTTLS required: a relay that does not
///   offer it is refused before anything is sent, so credentials and mail never cross in clear;
/// - `smtps://[user[:password]@]host[:port]`: implicit TLS, port 465;
/// - `smtp+plain://[user[:password]@]host[:port]`: no TLS at all, port 25, and only to a
///   loopback host (`localhost`, 127.0.0.0/8, `::1`), as a local MTA listens.
///
/// The user and password are percent-decoded. The password never appears in `description` nor
/// in any error.
public struct SMTPRelay: Sendable, Equatable, CustomStringConvertible {
    public enum Security: Sendable, Equatable {
        /// `smtp://`: plain connection upgraded with STARTTLS, which the relay must offer.
        case startTLS
        /// `smtps://`: TLS from the first byte.
        case implicitTLS
        /// `smtp+plain://`: no encryption, loopback only.
        case plain
    }

    public struct Credentials: Sendable, Equatable {
        public let user: String
        public let password: String
    }

    public let security: Security
    /// The host name or IP address (an IPv6 address without its brackets).
    public let host: String
    public let port: Int
    public let credentials: Credentials?

    public init(url: String) throws(InvalidSMTPRelay) {
        func invalid(_ reason: String) -> InvalidSMTPRelay { InvalidSMTPRelay(reason: reason) }
        guard let separator = url.range(of: "://") else {
            throw invalid("it has no scheme")
        }
        let scheme = url[..<separator.lowerBound].lowercased()
        let security: Security
        var port: Int
        switch scheme {
        case "smtp": (security, port) = (.startTLS, 587)
        case "smtps": (security, port) = (.implicitTLS, 465)
        case "smtp+plain": (security, port) = (.plain, 25)
        default: throw invalid("the scheme '\(Self.printable(scheme))' is not smtp, smtps or smtp+plain")
        }
        var rest = url[separator.upperBound...]
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        // The password may hold anything, so the user part ends at the last '@'.
        let at = rest.lastIndex(of: "@")
        let authority = at.map { rest[rest.index(after: $0)...] } ?? rest
        guard !authority.contains(where: { "/?#".contains($0) }) else {
            throw invalid("a path, query or fragment is not allowed")
        }
        if let at {
            let userInfo = rest[..<at]
            let colon = userInfo.firstIndex(of: ":")
            guard let user = Self.percentDecoded(colon.map { userInfo[..<$0] } ?? userInfo), !user.isEmpty else {
                throw invalid("the user name is empty or not percent-encoded correctly")
            }
            guard let colon else { throw invalid("the user '\(Self.printable(user))' has no password") }
            guard let password = Self.percentDecoded(userInfo[userInfo.index(after: colon)...]) else {
                throw invalid("the password is not percent-encoded correctly")
            }
            guard !password.isEmpty else { throw invalid("the password of '\(Self.printable(user))' is empty") }
            credentials = Credentials(user: user, password: password)
        } else {
            credentials = nil
        }

        let hostPart: Substring
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("the IPv6 address has no closing ']'") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after the IPv6 address") }
                portPart = after.dropFirst()
            }
            guard Self.isIPv6(String(hostPart)) else { throw invalid("'\(Self.printable(hostPart))' is not an IPv6 address") }
        } else {
            let colon = authority.firstIndex(of: ":")
            hostPart = colon.map { authority[..<$0] } ?? authority
            portPart = colon.map { authority[authority.index(after: $0)...] }
            guard !hostPart.isEmpty else { throw invalid("the host is missing") }
            guard Self.isHostName(hostPart) else { throw invalid("'\(Self.printable(hostPart))' is not a host name or IP address") }
        }
        host = hostPart.lowercased()
        if let portPart {
            guard let number = Int(portPart), (1...65535).contains(number), portPart.allSatisfy(\.isASCII) else {
                throw invalid("the port '\(Self.printable(portPart))' is not a number from 1 to 65535")
            }
            port = number
        }
        self.port = port
        self.security = security
        if security == .plain, !Self.isLoopback(host) {
            throw invalid(
                "smtp+plain:// sends mail and credentials unencrypted, so it is only allowed to a loopback host (localhost, 127.0.0.0/8, ::1), "
                    + "not '\(host)'; use smtp:// (STARTTLS) or smtps:// (TLS)")
        }
    }

    /// `smtp://user@host:587`: the URL without its password.
    public var description: String {
        let scheme = switch security {
        case .startTLS: "smtp"
        case .implicitTLS: "smtps"
        case .plain: "smtp+plain"
        }
        let user = credentials.map { "\(Self.percentEncoded($0.user))@" } ?? ""
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "\(scheme)://\(user)\(host):\(port)"
    }

    /// Whether `host` is loopback: `localhost`, 127.0.0.0/8 or `::1`.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
        }
        return false
    }

    private static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    /// Letters, digits, '-' and '.' (which also covers IPv4 addresses), in labels of 1-63.
    private static func isHostName(_ text: Substring) -> Bool {
        guard text.utf8.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    private static func percentDecoded(_ text: Substring) -> String? {
        String(text).removingPercentEncoding
    }

    private static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    /// Text of a URL quoted in a message: control characters shown as '?'.
    private static func printable(_ text: some StringProtocol) -> String {
        String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
    }
}

/// A relay URL that cannot be used: what is wrong, and the forms accepted. It never quotes the
/// password.
public struct InvalidSMTPRelay: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String

    public var description: String {
        "invalid SMTP relay URL: \(reason); accepted forms: smtp://[user[:password]@]host[:port] (STARTTLS required, port 587), "
            + "smtps://[user[:password]@]host[:port] (implicit TLS, port 465), smtp+plain://host[:port] (no TLS, loopback hosts only, port 25); "
            + "percent-encode special characters in the user and password"
    }
}
