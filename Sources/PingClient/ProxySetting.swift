import AsyncHTTPClient
import Foundation

/// The proxy a command reaches its server through, from the environment as curl reads it
/// (URLSession, which `kiothc run` and `pause` used before, drove libcurl): `http_proxy` for
/// http:// servers (lower case only, as curl), `https_proxy` or `HTTPS_PROXY` for https://,
/// else `all_proxy` or `ALL_PROXY`; none for a host `no_proxy` (or `NO_PROXY`) lists, as a
/// name, a domain or `*`. HTTP proxies (with `user:password@`) and SOCKS5 proxies.
struct ProxySetting: Equatable {
    var proxy: HTTPClient.Configuration.Proxy
    /// Where it came from and where it is, for errors: `the proxy 127.0.0.1 port 3128 (http_proxy)`.
    var name: String
    var host: String
    var port: Int

    /// nil: no proxy. A failure when a variable names a proxy that cannot be used.
    static func forServer(_ url: String, environment: [String: String]) -> Result<ProxySetting?, CommandHTTPClient.Failure> {
        guard let target = URLComponents(string: url), let host = target.host?.lowercased() else { return .success(nil) }
        let https = target.scheme?.lowercased() == "https"
        let variables = (https ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy"]) + ["all_proxy", "ALL_PROXY"]
        guard let variable = variables.first(where: { !(environment[$0] ?? "").isEmpty }), let value = environment[variable] else { return .success(nil) }
        if bypasses(host, environment["no_proxy"] ?? environment["NO_PROXY"] ?? "") { return .success(nil) }
        let text = value.contains("://") ? value : "http://" + value
        guard let components = URLComponents(string: text), let proxyHost = components.host, !proxyHost.isEmpty else {
            return .failure(.init(reason: "\(variable) is not a proxy URL (expected http://host:port)"))
        }
        let bare = proxyHost.hasPrefix("[") && proxyHost.hasSuffix("]") ? String(proxyHost.dropFirst().dropLast()) : proxyHost
        let port = components.port ?? 1080
        let name = "the proxy \(proxyHost) port \(port) (\(variable))"
        switch components.scheme?.lowercased() {
        case "http":
            let authorization = components.user.map { user in
                HTTPClient.Authorization.basic(username: user.removingPercentEncoding ?? user, password: components.password?.removingPercentEncoding ?? "")
            }
            return .success(ProxySetting(proxy: .server(host: bare, port: port, authorization: authorization), name: name, host: proxyHost, port: port))
        case "socks5", "socks5h":
            return .success(ProxySetting(proxy: .socksServer(host: bare, port: port), name: name, host: proxyHost, port: port))
        default:
            return .failure(.init(reason: "the proxy in \(variable) is a \(components.scheme ?? "?"):// proxy; kiothc supports http:// and socks5:// proxies"))
        }
    }

    /// `no_proxy`: comma-separated names, each matching the host and its subdomains; `*` all.
    static func bypasses(_ host: String, _ list: String) -> Bool {
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
