import Foundation
import HTTPTypes
import Hummingbird
import Monitoring
import Runtime

/// The dashboard at `/` (SPEC §7): server-rendered HTML that works without JavaScript, a
/// small script that refreshes the page's content every 10 s, login with a project API key or
/// the admin token (cookie: HttpOnly, SameSite=Lax, Secure over HTTPS).
///
/// CSRF: state-changing requests are POSTs only, carry the SameSite=Lax cookie (not sent on
/// cross-site POSTs), and must come with an `Origin` (or `Referer`) of this server. Pages
/// forbid framing and inline scripts (Content-Security-Policy).
struct Dashboard: Sendable {
    static let cookie = "kiothc_session"

    let api: ManagementAPI
    let token: AdminToken
    let status: CurrentReloadStatus
    let sessions: DashboardSessions

    /// nil for paths that are not the dashboard's.
    func respond(to request: Request, scheme listenerScheme: String) async -> Response? {
        // Behind a TLS-terminating proxy the cookie must still be Secure.
        let scheme = request.headers[.xForwardedProto] == "https" ? "https" : listenerScheme
        let path = request.uri.path
        switch (request.method, path) {
        case (.get, "/static/dashboard.js"), (.head, "/static/dashboard.js"):
            return DashboardAssets.response(DashboardAssets.script, type: "text/javascript; charset=utf-8")
        case (.get, "/static/dashboard.css"), (.head, "/static/dashboard.css"):
            return DashboardAssets.response(DashboardAssets.style, type: "text/css; charset=utf-8")
        case (.get, "/login"):
            if let given = request.uri.queryParameters.get("token") {
                // The login URL logged at the token's generation.
                guard token.matches(given) else { return page(.unauthorized, DashboardPages.login(error: "That login link is not valid (the admin token does not match).")) }
                return loggedIn(.admin, scheme: scheme)
            }
            return redirect("/")
        case (.post, "/login"):
            guard sameOrigin(request, scheme: scheme) else { return forbiddenCrossSite() }
            let form = await Self.form(request)
            let given = form["key"] ?? ""
            if token.matches(given) { return loggedIn(.admin, scheme: scheme) }
            if api.catalog.snapshot.viewer(apiKey: given) != nil { return loggedIn(.apiKey(Array(given.utf8)), scheme: scheme) }
            return page(.unauthorized, DashboardPages.login(error: given.isEmpty ? "Enter a project API key or the admin token." : "That key is not a project API key or the admin token."))
        case (.post, "/logout"):
            guard sameOrigin(request, scheme: scheme) else { return forbiddenCrossSite() }
            if let id = Self.sessionID(request) { sessions.remove(id) }
            var response = redirect("/")
            response.headers[.setCookie] = "\(Self.cookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax\(scheme == "https" ? "; Secure" : "")"
            return response
        default:
            break
        }
        guard path == "/" || path.hasPrefix("/checks/") else { return nil }
        guard let viewer = viewer(request) else {
            if request.method == .get || request.method == .head { return page(.ok, DashboardPages.login(error: nil)) }
            return page(.unauthorized, DashboardPages.login(error: "Log in first."))
        }
        let snapshot = api.catalog.snapshot
        let now = api.clock()
        let banner = DashboardPages.banner(status.snapshot)
        if path == "/" {
            guard request.method == .get || request.method == .head else { return methodNotAllowed() }
            let views = snapshot.entries(visibleTo: viewer).map {
                CheckView(uuid: $0.uuid, definition: $0.definition, state: api.states.state(of: $0.uuid), now: now)
            }
            return page(.ok, DashboardPages.overview(views, viewer: viewer, banner: banner, now: now))
        }
        // /checks/<uuid>[/pings/<n> | /pause | /resume]
        let parts = path.dropFirst("/checks/".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, let uuid = UUID(uuidString: first), uuid.uuidString.lowercased() == first,
            let entry = snapshot.check(uuid)
        else { return page(.notFound, DashboardPages.message("Not found", "There is no such check.", banner: banner)) }
        guard viewer.canSee(entry.definition.id.project) else {
            return page(.forbidden, DashboardPages.message("Forbidden", "This check belongs to another project than your key.", banner: banner))
        }
        let view = CheckView(uuid: uuid, definition: entry.definition, state: api.states.state(of: uuid), now: now)
        switch (request.method, parts.count) {
        case (.get, 1), (.head, 1):
            var pings: [Ping] = []
            var flips: [Flip] = []
            var problem: String?
            // Pings and bodies carry job output: read-write keys only, as in the API.
            if viewer.canWrite {
                do {
                    pings = try api.reader.pings(of: uuid, limit: 100)
                    flips = try api.reader.flips(of: uuid, limit: 50).map(\.flip)
                } catch {
                    problem = "The history of this check cannot be read now: \(error)"
                }
            }
            return page(.ok, DashboardPages.check(view, pings: pings, flips: flips, viewer: viewer, problem: problem, banner: banner, now: now))
        case (.get, 3) where parts[1] == "pings", (.head, 3) where parts[1] == "pings":
            guard viewer.canWrite else {
                return page(.forbidden, DashboardPages.message("Forbidden", "Ping bodies need the project's read_write key or the admin token.", banner: banner))
            }
            guard let n = Int(parts[2]), n > 0 else { return page(.notFound, DashboardPages.message("Not found", "No such ping.", banner: banner)) }
            let ping: Ping?
            do {
                ping = try api.reader.ping(of: uuid, n: n)
            } catch {
                return page(.serviceUnavailable, DashboardPages.message("Unavailable", "The ping cannot be read now.", banner: banner))
            }
            guard let ping else { return page(.notFound, DashboardPages.message("Not found", "Ping #\(n) is not stored (any more).", banner: banner)) }
            return page(.ok, DashboardPages.ping(view, ping, banner: banner))
        case (.post, 2) where parts[1] == "pause" || parts[1] == "resume":
            guard sameOrigin(request, scheme: scheme) else { return forbiddenCrossSite() }
            guard viewer.canWrite else {
                return page(.forbidden, DashboardPages.message("Forbidden", "Pausing and resuming need the project's read_write key or the admin token.", banner: banner))
            }
            do {
                if parts[1] == "pause" {
                    _ = try await api.pause.pause(uuid)
                } else if !entry.definition.paused {
                    _ = try await api.pause.resume(uuid)
                }
            } catch {
                switch error {
                case .notPaused: break  // already running: nothing to do
                case .notStored:
                    return page(.serviceUnavailable, DashboardPages.message("Not stored", "The store could not record this; try again.", banner: banner))
                }
            }
            return redirect("/checks/\(first)")
        default:
            return page(.notFound, DashboardPages.message("Not found", "No such page.", banner: banner))
        }
    }

    // MARK: Sessions

    private func viewer(_ request: Request) -> Viewer? {
        guard let id = Self.sessionID(request), let session = sessions.session(id) else { return nil }
        switch session.credential {
        case .admin: return .admin
        case .apiKey(let key): return api.catalog.snapshot.viewer(apiKey: String(decoding: key, as: UTF8.self))
        }
    }

    static func sessionID(_ request: Request) -> String? {
        for field in request.headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let trimmed = pair.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("\(cookie)=") {
                    let value = String(trimmed.dropFirst(cookie.count + 1))
                    return value.count == 64 && value.allSatisfy(\.isHexDigit) ? value : nil
                }
            }
        }
        return nil
    }

    private func loggedIn(_ credential: DashboardSessions.Credential, scheme: String) -> Response {
        let id = sessions.create(credential)
        var response = redirect("/")
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

    // MARK: Responses

    static func form(_ request: Request) async -> [String: String] {
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

    private func page(_ status: HTTPResponse.Status, _ html: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = PingResponses.neverCache
        headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.xFrameOptions] = "DENY"
        headers[.referrerPolicy] = "same-origin"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    private func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = PingResponses.neverCache
        return Response(status: .seeOther, headers: headers)
    }

    private func forbiddenCrossSite() -> Response {
        page(.forbidden, DashboardPages.message("Forbidden", "This form was not sent from this dashboard (cross-site request refused).", banner: ""))
    }

    private func methodNotAllowed() -> Response {
        var response = page(.methodNotAllowed, DashboardPages.message("Method not allowed", "Use GET.", banner: ""))
        response.headers[.allow] = "GET, HEAD"
        return response
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}

extension HTTPField.Name {
    /// HTTP/1's Host (HTTP/2 sends `:authority`, which `request.head.authority` holds).
    static let hostHeader = HTTPField.Name("Host")!
}
