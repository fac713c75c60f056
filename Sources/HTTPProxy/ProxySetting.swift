import AsyncHTTPClient
import Foundation

/// The proxy a request to a URL goes through, from the environment as curl reads it (URLSession,
/// which `kiothc run` and `pause` used before, drove libcurl): `http_proxy` for http:// URLs,
/// `https_proxy` or `HTTPS_PROXY` for https://, else `all_proxy` or `ALL_PROXY`; none for a
/// host `no_proxy` (or `NO_PROXY`) lists, as a name, a domain or `*`. HTTP proxies (with
/// `user:password@`) and SOCKS5 proxies.
///
/// `HTTP_PROXY` in upper case is read only when `upperCaseHTTPProxy` is set: curl ignores it,
/// since a CGI program finds a request's `Proxy:` header there (httpoxy); the server's alerts
/// read it (SPEC §12), the commands keep to curl's rule.
public struct ProxySetting: Equatable, Sendable {
    public var proxy: HTTPClient.Configuration.Proxy
    /// Where it came from and where it is, for errors: `the proxy 127.0.0.1 port 3128 (http_proxy)`.
    public var name: String
    public var host: String
    public var port: Int
    /// The variable's value: proxies with the same one are the same proxy.
    public var value: String

    /// A variable that names a proxy that cannot be used.
    public struct Unusable: Error, Sendable, Equatable {
        public let reason: String
    }

    /// nil: no proxy. A failure when a variable names a proxy that cannot be used.
    public static func forServer(_ url: String, environment: [String: String], upperCaseHTTPProxy: Bool = false) -> Result<ProxySetting?, Unusable> {
        guard let target = URLComponents(string: url), let host = target.host?.lowercased() else { return .success(nil) }
        let https = target.scheme?.lowercased() == "https"
        let plain = upperCaseHTTPProxy ? ["http_proxy", "HTTP_PROXY"] : ["http_proxy"]
        let variables = (https ? ["https_proxy", "HTTPS_PROXY"] : plain) + ["all_proxy", "ALL_PROXY"]
        guard let variable = variables.first(where: { !(environment[$0] ?? "").isEmpty }), let value = environment[variable] else { return .success(nil) }
        if bypasses(host, environment["no_proxy"] ?? environment["NO_PROXY"] ?? "") { return .success(nil) }
        let text = value.contains("://") ? value : "http://" + value
        guard let components = URLComponents(string: text), let proxyHost = components.host, !proxyHost.isEmpty else {
            return .failure(Unusable(reason: "\(variable) is not a proxy URL (expected http://host:port)"))
        }
        let bare = proxyHost.hasPrefix("[") && proxyHost.hasSuffix("]") ? String(proxyHost.dropFirst().dropLast()) : proxyHost
        let port = components.port ?? 1080
        let name = "the proxy \(proxyHost) port \(port) (\(variable))"
        switch components.scheme?.lowercased() {
        case "http":
            let authorization = components.user.map { user in
                HTTPClient.Authorization.basic(username: user.removingPercentEncoding ?? user, password: components.password?.removingPercentEncoding ?? "")
            }
            return .success(ProxySetting(proxy: .server(host: bare, port: port, authorization: authorization), name: name, host: proxyHost, port: port, value: value))
        case "socks5", "socks5h":
            return .success(ProxySetting(proxy: .socksServer(host: bare, port: port), name: name, host: proxyHost, port: port, value: value))
        default:
            return .failure(Unusable(reason: "the proxy in \(variable) is a \(components.scheme ?? "?"):// proxy; kiothc supports http:// and socks5:// proxies"))
        }
    }

    /// `no_proxy`: comma-separated names, each matching the host and its subdomains; `*` all.
    public static func bypasses(_ host: String, _ list: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        for entry in list.split(separator: ",") {
            var name = entry.trimmingCharacters(in: .whitespaces).lowercased()
            if name == "*" { return true }
            if name.hasPrefix(".") { name.removeFirst() }
            if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
            if name.isEmpty { continue }
            if bare == name || bare.hasSuffix("." + name) { return true }
        }
        return false
    }
}
