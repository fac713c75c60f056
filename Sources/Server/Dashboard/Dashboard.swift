import Foundation
import HTTPTypes
import Hummingbird
import Monitoring

/// The dashboard at `/` (SPEC §7): server-rendered HTML that works without JavaScript, a
/// small script that refreshes the page's content every 10 s, login with a project API key or
/// the admin token (cookie: HttpOnly, SameSite=Lax, Secure over HTTPS).
///
/// CSRF: state-changing requests are POSTs only, carry the SameSite=Lax cookie (not sent on
/// cross-site POSTs), and must come with an `Origin` (or `Referer`) of this server. Pages
/// forbid framing and inline scripts (Content-Security-Policy).
struct Dashboard: Sendable {
    static let cookie = "kiothc_session"
    /// The check pages. Every path under it is the dashboard's: one it does not route still
    /// answers after the login and the check, with "No such page." (`unknownPage`).
    static let checksPrefix = "/checks/"

    let api: ManagementAPI
    let token: AdminToken
    let status: CurrentReloadStatus
    let sessions: DashboardSessions

    func routes(scheme listenerScheme: String) -> RouteCollection<ServerContext> {
        // Behind a TLS-terminating proxy the cookie must still be Secure.
        @Sendable func scheme(_ request: Request) -> String { request.headers[.xForwardedProto] == "https" ? "https" : listenerScheme }
        let routes = RouteCollection(context: ServerContext.self)
        routes.on(spelled: "/static/dashboard.js", [.get, .head]) { _, _ in
            DashboardAssets.response(DashboardAssets.script, type: "text/javascript; charset=utf-8")
        }
        routes.on(spelled: "/static/dashboard.css", [.get, .head]) { _, _ in
            DashboardAssets.response(DashboardAssets.style, type: "text/css; charset=utf-8")
        }
        routes.on(spelled: "/login", [.get]) { request, _ in loginLink(request, scheme: scheme(request)) }
        routes.on(spelled: "/login", [.post]) { request, _ in await logIn(request, scheme: scheme(request)) }
        routes.on(spelled: "/logout", [.post]) { request, _ in logOut(request, scheme: scheme(request)) }
        // Every method: without a session the login form (401 for a method but GET and HEAD), with one 405.
        routes.on(spelled: "/", HTTPRequest.Method.routed) { request, _ in try overview(request) }
        routes.on(spelled: "/checks/{id}", [.get, .head]) { request, context in try checkPage(request, context) }
        routes.on(spelled: "/checks/{id}/pings/{n}", [.get, .head]) { request, context in try pingPage(request, context) }
        // `pings/` is ping number "": no such ping.
        routes.on(spelled: "/checks/{id}/pings/", [.get, .head]) { request, context in try pingPage(request, context) }
        routes.on(spelled: "/checks/{id}/pause", [.post]) { request, context in try await pauseOrResume(request, context, pause: true, scheme: scheme(request)) }
        routes.on(spelled: "/checks/{id}/resume", [.post]) { request, context in try await pauseOrResume(request, context, pause: false, scheme: scheme(request)) }
        return routes
    }

    // MARK: Pages

    /// `GET /login?token=`: the login URL logged at the token's generation.
    private func loginLink(_ request: Request, scheme: String) -> Response {
        guard let given = request.uri.queryParameters.get("token") else { return redirect("/") }
        guard token.matches(given) else { return page(.unauthorized, DashboardPages.login(error: "That login link is not valid (the admin token does not match).")) }
        return loggedIn(.admin, scheme: scheme)
    }

    private func logIn(_ request: Request, scheme: String) async -> Response {
        guard sameOrigin(request, scheme: scheme) else { return forbiddenCrossSite() }
        let form = await Self.form(request)
        let given = form["key"] ?? ""
        if token.matches(given) { return loggedIn(.admin, scheme: scheme) }
        if api.catalog.snapshot.viewer(apiKey: given) != nil { return loggedIn(.apiKey(Array(given.utf8)), scheme: scheme) }
        return page(.unauthorized, DashboardPages.login(error: given.isEmpty ? "Enter a project API key or the admin token." : "That key is not a project API key or the admin token."))
    }

    private func logOut(_ request: Request, scheme: String) -> Response {
        guard sameOrigin(request, scheme: scheme) else { return forbiddenCrossSite() }
        if let id = Self.sessionID(request) { sessions.remove(id) }
        var response = redirect("/")
        response.headers[.setCookie] = "\(Self.cookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax\(scheme == "https" ? "; Secure" : "")"
        return response
    }

    private func overview(_ request: Request) throws(DashboardPage) -> Response {
        let viewer = try signedIn(request)
        let now = api.clock()
        let banner = DashboardPages.banner(status.snapshot)
        guard request.method == .get || request.method == .head else { return methodNotAllowed() }
        let views = api.catalog.snapshot.entries(visibleTo: viewer).map {
            CheckView(uuid: $0.uuid, definition: $0.definition, state: api.states.state(of: $0.uuid), now: now)
        }
        return page(.ok, DashboardPages.overview(views, viewer: viewer, banner: banner, now: now))
    }

    private func checkPage(_ request: Request, _ context: ServerContext) throws(DashboardPage) -> Response {
        let visit = try visit(request, check: context.parameters.get("id") ?? "")
        var pings: [Ping] = []
        var flips: [Flip] = []
        var problem: String?
        // Pings and bodies carry job output: read-write keys only, as in the API.
        if visit.viewer.canWrite {
            do {
                pings = try api.reader.pings(of: visit.view.uuid, limit: 100)
                flips = try api.reader.flips(of: visit.view.uuid, limit: 50).map(\.flip)
            } catch {
                problem = "The history of this check cannot be read now: \(error)"
            }
        }
        return page(
            .ok, DashboardPages.check(visit.view, pings: pings, flips: flips, viewer: visit.viewer, problem: problem, banner: visit.banner, now: visit.now))
    }

    private func pingPage(_ request: Request, _ context: ServerContext) throws(DashboardPage) -> Response {
        let visit = try visit(request, check: context.parameters.get("id") ?? "")
        guard visit.viewer.canWrite else {
            return page(.forbidden, DashboardPages.message("Forbidden", "Ping bodies need the project's read_write key or the admin token.", banner: visit.banner))
        }
        guard let n = Int(context.parameters.get("n") ?? ""), n > 0 else {
            return page(.notFound, DashboardPages.message("Not found", "No such ping.", banner: visit.banner))
        }
        let ping: Ping?
        do {
            ping = try api.reader.ping(of: visit.view.uuid, n: n)
        } catch {
            return page(.serviceUnavailable, DashboardPages.message("Unavailable", "The ping cannot be read now.", banner: visit.banner))
        }
        guard let ping else { return page(.notFound, DashboardPages.message("Not found", "Ping #\(n) is not stored (any more).", banner: visit.banner)) }
        return page(.ok, DashboardPages.ping(visit.view, ping, banner: visit.banner))
    }

    private func pauseOrResume(_ request: Request, _ context: ServerContext, pause: Bool, scheme: String) async throws(DashboardPage) -> Response {
        let id = context.parameters.get("id") ?? ""
        let visit = try visit(request, check: id)
        guard sameOrigin(request, scheme: scheme) else { return forbiddenCrossSite() }
        guard visit.viewer.canWrite else {
            return page(.forbidden, DashboardPages.message("Forbidden", "Pausing and resuming need the project's read_write key or the admin token.", banner: visit.banner))
        }
        do {
            if pause {
                _ = try await api.pause.pause(visit.view.uuid)
            } else if !visit.view.definition.paused {
                _ = try await api.pause.resume(visit.view.uuid)
            }
        } catch {
            switch error {
            case .notPaused: break  // already running: nothing to do
            case .notStored:
                return page(.serviceUnavailable, DashboardPages.message("Not stored", "The store could not record this; try again.", banner: visit.banner))
            }
        }
        return redirect("/checks/\(id)")
    }

    /// Any other path under `/checks/`, or another method: "No such page." for a check the
    /// viewer may see (the login form, or the check's own refusal, before that).
    func unknownPage(_ request: Request) throws(DashboardPage) -> Response {
        let id = request.uri.path.dropFirst(Self.checksPrefix.count).prefix { $0 != "/" }
        let visit = try visit(request, check: String(id))
        return page(.notFound, DashboardPages.message("Not found", "No such page.", banner: visit.banner))
    }

    /// A check's page is asked for: who asks, the check and what the page shows it with.
    private struct Visit {
        let viewer: Viewer
        let view: CheckView
        let banner: String
        let now: Int64
    }

    /// The viewer, then the check `id` (a lower-case UUID) that viewer may see.
    private func visit(_ request: Request, check id: String) throws(DashboardPage) -> Visit {
        let viewer = try signedIn(request)
        let snapshot = api.catalog.snapshot
        let now = api.clock()
        let banner = DashboardPages.banner(status.snapshot)
        guard let uuid = UUID(uuidString: id), uuid.uuidString.lowercased() == id, let entry = snapshot.check(uuid) else {
            throw DashboardPage(.notFound, DashboardPages.message("Not found", "There is no such check.", banner: banner))
        }
        guard viewer.canSee(entry.definition.id.project) else {
            throw DashboardPage(.forbidden, DashboardPages.message("Forbidden", "This check belongs to another project than your key.", banner: banner))
        }
        let view = CheckView(uuid: uuid, definition: entry.definition, state: api.states.state(of: uuid), now: now)
        return Visit(viewer: viewer, view: view, banner: banner, now: now)
    }

    // MARK: Sessions

    /// The viewer of the request's session; without one the login form is the answer (401 for a
    /// method but GET and HEAD, which ask for a page).
    private func signedIn(_ request: Request) throws(DashboardPage) -> Viewer {
        if let viewer = viewer(request) { return viewer }
        if request.method == .get || request.method == .head { throw DashboardPage(.ok, DashboardPages.login(error: nil)) }
        throw DashboardPage(.unauthorized, DashboardPages.login(error: "Log in first."))
    }

    private func viewer(_ request: Request) -> Viewer? {
        guard let id = Self.sessionID(request), let session = sessions.session(id) else { return nil }
        switch session.credential {
        case .admin: return .admin
        case .apiKey(let key): return api.catalog.snapshot.viewer(apiKey: String(decoding: key, as: UTF8.self))
        }
    }

    /// The first session cookie's id: 64 hex digits (spaces before a following `;` ignored).
    static func sessionID(_ request: Request) -> String? {
        guard let value = request.cookies[cookie]?.value else { return nil }
        let id = value.prefix(64)
        guard id.count == 64, id.allSatisfy(\.isHexDigit), value.dropFirst(64).allSatisfy({ $0 == " " || $0 == "\t" }) else { return nil }
        return String(id)
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

    static func page(_ status: HTTPResponse.Status, _ html: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = PingResponses.neverCache
        headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.xFrameOptions] = "DENY"
        headers[.referrerPolicy] = "same-origin"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    private func page(_ status: HTTPResponse.Status, _ html: String) -> Response { Self.page(status, html) }

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

/// A page answered instead of the one asked for: the login form, a check that is not there or
/// not the viewer's.
struct DashboardPage: HTTPResponseError {
    let status: HTTPResponse.Status
    let html: String

    init(_ status: HTTPResponse.Status, _ html: String) {
        self.status = status
        self.html = html
    }

    func response(from request: Request, context: some RequestContext) -> Response {
        Dashboard.page(status, html)
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
