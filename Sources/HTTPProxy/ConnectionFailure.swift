import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Why a connection to a URL's host (or to the proxy in front of it) failed, for people: the
/// peer by host and port, never the URL's path (where tokens, ping keys and UUIDs live).
/// `kiothc run`/`pause`/`notify` and the alerts' HTTP requests say it the same way.
public enum ConnectionFailure {
    /// The text for a connection-level error (refused, unreachable, name not resolved, TLS
    /// handshake), nil for any other error.
    public static func describe(_ error: any Error, url: String, proxy: ProxySetting?) -> String? {
        let components = URLComponents(string: url)
        let host = components?.host ?? "?"
        let port = components?.port ?? (components?.scheme?.lowercased() == "https" ? 443 : 80)
        // Through a proxy, the connection is to the proxy.
        let peer = proxy?.name ?? "\(host) port \(port)"
        if let error = error as? NIOConnectionError {
            // Each address tried failed: say why for the first (they are alike in practice).
            if let failure = error.connectionErrors.first {
                return "could not connect to \(peer): \(reason(failure.error))"
            }
            return "could not resolve the host name \(proxy?.host ?? host)\(proxy.map { " of \($0.name)" } ?? "")"
        }
        // A refused connection to an address (no name to resolve) ends here.
        if let error = error as? IOError {
            let connecting = [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT, EADDRNOTAVAIL].contains(error.errnoCode)
            return "\(connecting ? "could not connect to" : "the connection failed with") \(peer): \(reason(error))"
        }
        let text = String(describing: error)
        if String(reflecting: type(of: error)).hasPrefix("NIOSSL.") {
            // handshakeFailed(…[Error: … error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at <source path>])
            let code = text.range(of: "OPENSSL_internal:").map { String(text[$0.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }) } ?? ""
            let why = code == "CERTIFICATE_VERIFY_FAILED" ? "the server's certificate is not trusted (\(code))" : code.isEmpty ? String(text.prefix(200)) : code
            return "the TLS handshake with \(host) port \(port) failed: \(why)"
        }
        return nil
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        return String(String(describing: error).prefix(200))
    }
}
