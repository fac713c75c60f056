import Alerting
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
    /// The check pages. Every path under it is the dashboard's: one it does not route still
    /// answers after the login and the check, with "No such page." (`unknownPage`).
    static let checksPrefix = "/checks/"

    let api: ManagementAPI
    let token: AdminToken
    let status: CurrentReloadStatus
    let sessions: DashboardSessions
    /// The public status pages' keys (`status_page: true`).
    let statusPages: StatusPages
    /// What the overview keeps per catalog snapshot.
    let overviewIndex = OverviewIndex()

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
        routes.on(spelled: "/timezone", [.get, .head]) { request, _ in chooseZone(request, scheme: scheme(request)) }
        routes.on(spelled: "/status/{key}", [.get, .head]) { _, context in statusPage(key: context.parameters.get("key") ?? "") }
        // Every method: without a session the login form (401 for a method but GET and HEAD), with one 405.
        routes.on(spelled: "/", HTTPRequest.Method.routed) { request, _ in try overview(request, scheme: scheme(request)) }
        routes.on(spelled: "/checks/{id}", [.get, .head]) { request, context in try await checkPage(request, context, scheme: scheme(request)) }
        routes.on(spelled: "/checks/{id}/pings/{n}", [.get, .head]) { request, context in try await pingPage(request, context) }
        // `pings/` is ping number "": no such ping.
        routes.on(spelled: "/checks/{id}/pings/", [.get, .head]) { request, context in try await pingPage(request, context) }
        routes.on(spelled: "/checks/{id}/pause", [.post]) { request, context in try await pauseOrResume(request, context, pause: true, scheme: scheme(request)) }
        routes.on(spelled: "/checks/{id}/resume", [.post]) { request, context in try await pauseOrResume(request, context, pause: false, scheme: scheme(request)) }
        routes.on(spelled: "/checks/{id}/channels/{channel}/test", [.post]) { request, context in try await sendTest(request, context, scheme: scheme(request)) }
        return routes
    }

    // MARK: Pages

    /// `/` with the filters, order and page of its URL (`OverviewQuery`).
    private func overview(_ request: Request, scheme: String) throws(DashboardAnswer) -> Response {
        let viewer = try signedIn(request)
        let now = api.clock()
        let banner = DashboardPages.banner(status.snapshot)
        guard request.method == .get || request.method == .head else { return methodNotAllowed() }
        let snapshot = api.catalog.snapshot
        let query = OverviewQuery(query: request.uri.query)
        let overview = Overview(snapshot, index: overviewIndex, viewer: viewer, states: api.states, now: now, query: query)
        let projects = snapshot.catalog.projects.map(\.id).filter { viewer.canSee($0) }
        let urls = pingURLs(request, viewer: viewer, scheme: scheme)
        return page(
            .ok,
            DashboardPages.overview(
                overview, query: query, projects: projects, urls: urls, viewer: viewer, banner: banner, now: now, zone: zoneChoice(request, snapshot: snapshot),
                statusPages: viewer == .admin ? statusPages.paths(snapshot.catalog).map { ($0.project.name, $0.path) } : []))
    }

    private func checkPage(_ request: Request, _ context: ServerContext, scheme: String) async throws(DashboardAnswer) -> Response {
        let visit = try visit(request, check: context.parameters.get("id") ?? "")
        var pings: [Ping] = []
        var flips: [Flip] = []
        var problem: String?
        // Pings and bodies carry job output: read-write keys only, as in the API.
        if visit.viewer.canWrite {
            do {
                pings = try await api.reader.pings(of: visit.view.uuid, limit: 100)
                flips = try await api.reader.flips(of: visit.view.uuid, limit: 50).map(\.flip)
            } catch {
                problem = "The history of this check cannot be read now: \(error)"
            }
        }
        // Alerts carry no job output: every key of the project sees them, as in the API.
        var alerts: [AlertRecord] = []
        var alertsProblem: String?
        do {
            alerts = try await api.alerts.notifications(of: visit.view.uuid, limit: 20)
        } catch {
            alertsProblem = "The notifications of this check cannot be read now: \(error)"
        }
        let snapshot = api.catalog.snapshot
        let zone = zoneChoice(request, snapshot: snapshot, own: visit.view.definition.tz)
        let notifications = DashboardPages.notifications(
            alerts, channels: DashboardPages.channels(of: visit.view.definition, snapshot: snapshot), check: visit.view.code,
            canWrite: visit.viewer.canWrite, problem: alertsProblem, now: visit.now, zone: zone.zone)
        return page(
            .ok,
            DashboardPages.check(
                visit.view, pings: pings, flips: flips, notifications: notifications, urls: pingURLs(request, viewer: visit.viewer, scheme: scheme),
                viewer: visit.viewer, problem: problem, banner: visit.banner, now: visit.now, zone: zone))
    }

    private func pingPage(_ request: Request, _ context: ServerContext) async throws(DashboardAnswer) -> Response {
        let visit = try visit(request, check: context.parameters.get("id") ?? "")
        guard visit.viewer.canWrite else {
            return page(.forbidden, DashboardPages.message("Forbidden", "Ping bodies need the project's read_write key or the admin token.", banner: visit.banner))
        }
        guard let n = Int(context.parameters.get("n") ?? ""), n > 0 else {
            return page(.notFound, DashboardPages.message("Not found", "No such ping.", banner: visit.banner))
        }
        let ping: Ping?
        do {
            ping = try await api.reader.ping(of: visit.view.uuid, n: n)
        } catch {
            return page(.serviceUnavailable, DashboardPages.message("Unavailable", "The ping cannot be read now.", banner: visit.banner))
        }
        guard let ping else { return page(.notFound, DashboardPages.message("Not found", "Ping #\(n) is not stored (any more).", banner: visit.banner)) }
        return page(.ok, DashboardPages.ping(visit.view, ping, banner: visit.banner, zone: zoneChoice(request, snapshot: api.catalog.snapshot, own: visit.view.definition.tz)))
    }

    private func pauseOrResume(_ request: Request, _ context: ServerContext, pause: Bool, scheme: String) async throws(DashboardAnswer) -> Response {
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

    /// "Send test": a test notification about this check through one of its channels, tried
    /// once before the answer; the check page it redirects to shows how it went.
    private func sendTest(_ request: Request, _ context: ServerContext, scheme: String) async throws(DashboardAnswer) -> Response {
        let id = context.parameters.get("id") ?? ""
        let visit = try visit(request, check: id)
        guard sameOrigin(request, scheme: scheme) else { return forbiddenCrossSite() }
        guard visit.viewer.canWrite else {
            return page(
                .forbidden, DashboardPages.message("Forbidden", "Sending a test notification needs the project's read_write key or the admin token.", banner: visit.banner))
        }
        let channelID = context.parameters.get("channel") ?? ""
        let channels = DashboardPages.channels(of: visit.view.definition, snapshot: api.catalog.snapshot)
        guard let channel = channels.first(where: { $0.id == channelID }) else {
            return page(.notFound, DashboardPages.message("Not found", "This check notifies no such channel (any more).", banner: visit.banner))
        }
        do {
            _ = try await api.alerts.sendTest(project: visit.view.definition.id.project, channel: channel.name, check: visit.view.uuid)
        } catch {
            return page(
                .serviceUnavailable,
                DashboardPages.message("Not sent", "The test notification through '\(channel.name)' could not be sent: \(error)", banner: visit.banner))
        }
        return redirect("/checks/\(id)#notifications")
    }

    /// Any other path under `/checks/`, or another method: "No such page." for a check the
    /// viewer may see (the login form, or the check's own refusal, before that).
    func unknownPage(_ request: Request) throws(DashboardAnswer) -> Response {
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
    private func visit(_ request: Request, check id: String) throws(DashboardAnswer) -> Visit {
        let viewer = try signedIn(request)
        let snapshot = api.catalog.snapshot
        let now = api.clock()
        let banner = DashboardPages.banner(status.snapshot)
        guard let uuid = UUID(uuidString: id), uuid.uuidString.lowercased() == id, let entry = snapshot.check(uuid) else {
            throw DashboardAnswer(.notFound, DashboardPages.message("Not found", "There is no such check.", banner: banner))
        }
        guard viewer.canSee(entry.definition.id.project) else {
            throw DashboardAnswer(.forbidden, DashboardPages.message("Forbidden", "This check belongs to another project than your key.", banner: banner))
        }
        let view = api.catalog.snapshot.view(of: entry, states: api.states, now: now)
        return Visit(viewer: viewer, view: view, banner: banner, now: now)
    }

    /// The ping URLs `viewer` may copy, on this server's address (`--base-url`, or the one asked).
    /// The ping keys are the viewer's to see only with the right to ping: its own project's for
    /// a read-write key, every project's for the admin, none for a read-only key.
    private func pingURLs(_ request: Request, viewer: Viewer, scheme: String) -> DashboardPages.PingURLs {
        var urls = DashboardPages.PingURLs(base: PingURLFormat(base: api.baseURL ?? ManagementAPI.origin(request, scheme: scheme)).base, canPing: viewer.canWrite)
        let snapshot = api.catalog.snapshot
        switch viewer {
        case .admin:
            for project in snapshot.catalog.projects {
                if let key = snapshot.pingKey(ofProject: project.id) { urls.pingKeys[project.id] = key }
            }
        case .project(let project, readWrite: true):
            if let key = snapshot.pingKey(ofProject: project) { urls.pingKeys[project] = key }
        case .project(_, readWrite: false):
            break
        }
        return urls
    }

    /// `/status/<key>`: no login; a key that is no page's is 404, the same page for any key.
    private func statusPage(key: String) -> Response {
        let snapshot = api.catalog.snapshot
        guard let project = statusPages.project(forKey: key, in: snapshot.catalog) else {
            return page(.notFound, DashboardPages.noStatusPage())
        }
        let now = api.clock()
        var lines: [DashboardPages.StatusLine] = []
        for definition in snapshot.catalog.checks where definition.id.project == project.id {
            guard let uuid = snapshot.uuid(of: definition.id) else { continue }
            lines.append(.init(name: definition.name, status: CheckView.liveStatus(of: api.states.state(of: uuid), definition, now: now).status))
        }
        return page(.ok, DashboardPages.statusPage(projectName: project.name, lines: lines, now: now))
    }

    // MARK: Responses

    func page(_ status: HTTPResponse.Status, _ html: String) -> Response { DashboardAnswer(status, DashboardPages.footed(html, self.status.snapshot)).response }

    func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = PingResponses.neverCache
        return Response(status: .seeOther, headers: headers)
    }

    func forbiddenCrossSite() -> Response {
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
