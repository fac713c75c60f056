import Foundation
import HTTPTypes
import Hummingbird
import Runtime

/// Login, logout and sessions: the cookie, its session and the same-origin rule for forms.
extension Dashboard {
    /// `GET /login?token=`: the login URL logged at the token's generation.
    func loginLink(_ request: Request, scheme: String) -> Response {
        guard let given = request.uri.queryParameters.get("token") else { return redirect("/") }
        guard token.matches(given) else { return page(.unauthorized, DashboardPages.login(error: "That login link is not valid (the admin token does not match).")) }
        return loggedIn(.admin, scheme: scheme)
    }

    func logIn(_ request: Request, scheme: String) async -> Response {
        guard sameOrigin(request, scheme: scheme) else { return forbiddenCrossSite() }
        let form = await Self.form(request)
        let given = form["key"] ?? ""
        if token.matches(given) { return loggedIn(.admin, scheme: scheme) }
        if api.catalog.snapshot.viewer(apiKey: given) != nil { return loggedIn(.apiKey(Array(given.utf8)), scheme: scheme) }
        return page(.unauthorized, DashboardPages.login(error: given.isEmpty ? "Enter a project API key or the admin token." : "That key is not a project API key or the admin token."))
    }

    func logOut(_ request: Request, scheme: String) -> Response {
        guard sameOrigin(request, scheme: scheme) else { return forbiddenCrossSite() }
        if let id = Self.sessionID(request) { sessions.remove(id) }
        var response = redirect("/")
        response.headers[.setCookie] = "\(Self.cookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax\(scheme == "https" ? "; Secure" : "")"
        return response
    }

    // MARK: Sessions

    /// The viewer of the request's session; without one the login form is the answer (401 for a
    /// method but GET and HEAD, which ask for a page).
    func signedIn(_ request: Request) throws(DashboardAnswer) -> Viewer {
        if let viewer = viewer(request) { return viewer }
        if request.method == .get || request.method == .head { throw DashboardAnswer(.ok, DashboardPages.login(error: nil)) }
        throw DashboardAnswer(.unauthorized, DashboardPages.login(error: "Log in first."))
    }

    private func viewer(_ request: Request) -> Viewer? {
        guard let id = Self.sessionID(request), let session = sessions.session(id) else { return nil }
        switch session.credential {
        case .admin: return .admin
        case .apiKey(let key): return api.catalog.snapshot.viewer(apiKey: String(decoding: key, as: UTF8.self))
        }
    }

    /// The first session cookie's id: 64 hex digits (spaces before a following `;` ignored).
    private static func sessionID(_ request: Request) -> String? {
        guard let value = request.cookies[cookie]?.value else { return nil }
        let id = value.prefix(64)
        guard id.count == 64, id.allSatisfy(\.isHexDigit), value.dropFirst(64).allSatisfy({ $0 == " " || $0 == "\t" }) else { return nil }
        return String(id)
    }

    private func loggedIn(_ credential: DashboardSessions.Credential, scheme: String) -> Response {
        let id = sessions.create(credential)
        var response = redirect("/")
        // Written out rather than with Hummingbird's `Cookie`, which orders the attributes as its
        // dictionary happens to (a different order in each process).
        response.headers[.setCookie] = "\(Self.cookie)=\(id); Path=/; HttpOnly; SameSite=Lax\(scheme == "https" ? "; Secure" : "")"
        return response
    }

    /// The request's Origin (or, without one, its Referer) names this server. Browsers send
    /// Origin with every POST; a request with neither is refused.
    func sameOrigin(_ request: Request, scheme: String) -> Bool {
        guard let host = request.head.authority ?? request.headers[.hostHeader] else { return false }
        let expected = ["http://\(host)", "https://\(host)"]
        if let origin = request.headers[.origin] {
            return expected.contains(origin)
        }
        if let referer = request.headers[.referer] {
            return expected.contains { referer == $0 || referer.hasPrefix($0 + "/") }
        }
        return false
    }

    // MARK: Forms

    /// The login form's fields; a repeated field's last value wins, as in Django's forms
    /// (Hummingbird's `URLEncodedFormDecoder` rejects the whole form), a malformed one is empty.
    private static func form(_ request: Request) async -> [String: String] {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: 16 * 1024) else { return [:] }
        var fields: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let name = parts.first { fields[decode(name)] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }

}
