import HTTPTypes
import Hummingbird
import Runtime

/// Answers a listener's requests: the Pinging API first, on its lean path (a prefix test, no
/// router), then Hummingbird's router: the probes, `/-/reload`, `/metrics`, the management API,
/// the badges and the dashboard. One responder per listener, because it knows the listener's scheme.
struct ServerResponder: HTTPResponder {
    typealias Context = ServerContext

    let pings: PingEndpoint
    let scheme: String
    private let routes: RouterResponder<ServerContext>

    init(
        pings: PingEndpoint, scheme: String, reload: ReloadEndpoint, metrics: MetricsEndpoint, api: ManagementAPI, dashboard: Dashboard,
        badges: BadgeEndpoint, ready: @escaping @Sendable () -> Bool
    ) {
        self.pings = pings
        self.scheme = scheme
        let router = Router(context: ServerContext.self)
        // First, so that it also answers the routes' own "not found" (a path spelled otherwise).
        router.add(middleware: NotFound(dashboard: dashboard))
        router.addRoutes(Self.adminRoutes(reload: reload, metrics: metrics, ready: ready))
        for version in 1...3 {
            router.addRoutes(api.routes(version: version, scheme: scheme), atPath: "\(ManagementAPI.prefix)\(version)")
        }
        router.addRoutes(badges.routes())
        router.addRoutes(dashboard.routes(scheme: scheme))
        routes = router.buildResponder()
    }

    func respond(to request: Request, context: ServerContext) async throws -> Response {
        if request.uri.path.hasPrefix(PingEndpoint.prefix) {
            return await pings.respond(to: request, context: context, scheme: scheme)
        }
        return try await routes.respond(to: Self.routable(request), context: context)
    }

    /// The router matches methods exactly. A method no route names (WebDAV's PROPFIND, any token
    /// an HTTP/2 client sends) is routed as TRACE, which no route serves: it gets the answer
    /// every route gives a method it does not serve.
    private static func routable(_ request: Request) -> Request {
        guard !HTTPRequest.Method.routed.contains(request.method) else { return request }
        var head = request.head
        head.method = .trace
        return Request(head: head, body: request.body)
    }

    /// The probes (every method), `POST /-/reload`, `GET /metrics` and the per-project metrics.
    private static func adminRoutes(reload: ReloadEndpoint, metrics: MetricsEndpoint, ready: @escaping @Sendable () -> Bool) -> RouteCollection<ServerContext> {
        let routes = RouteCollection(context: ServerContext.self)
        routes.on(spelled: "/-/healthy", HTTPRequest.Method.routed) { _, _ in PingResponses.error(.ok, "OK").response }
        routes.on(spelled: "/-/ready", HTTPRequest.Method.routed) { _, _ in
            ready() ? PingResponses.error(.ok, "OK").response : PingResponses.error(.serviceUnavailable, "not ready").response
        }
        routes.on(spelled: ReloadEndpoint.path, [.post]) { request, _ in await reload.respond(to: request) } otherwise: { _, _ in
            ReloadEndpoint.methodNotAllowed()
        }
        routes.on(spelled: MetricsEndpoint.path, [.get, .head]) { request, _ in metrics.respond(to: request) } otherwise: { _, _ in
            MetricsEndpoint.methodNotAllowed()
        }
        for spelling in MetricsEndpoint.projectPaths {
            routes.on(spelled: spelling, [.get, .head]) { request, context in
                metrics.respond(to: request, project: context.parameters.get("project") ?? "", key: context.parameters.get("key") ?? "")
            } otherwise: { _, _ in
                MetricsEndpoint.methodNotAllowed()
            }
        }
        routes.on(spelled: MetricsEndpoint.projectBearerPath, [.get, .head]) { request, context in
            metrics.respond(to: request, project: context.parameters.get("project") ?? "", key: nil)
        } otherwise: { _, _ in
            MetricsEndpoint.methodNotAllowed()
        }
        return routes
    }

    /// Where no route matches, or a route's spelling does not (`on(spelled:)`): under `/api/v`
    /// the API's JSON error, under `/checks/` the dashboard's page, elsewhere "not found".
    struct NotFound: RouterMiddleware {
        let dashboard: Dashboard

        func handle(
            _ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response
        ) async throws -> Response {
            do {
                return try await next(request, context)
            } catch let error as HTTPError where error.status == .notFound {
                let path = request.uri.path
                if path.hasPrefix(ManagementAPI.prefix) { return APIResponses.notFound() }
                if path.hasPrefix(Dashboard.checksPrefix) { return try dashboard.unknownPage(request) }
                return PingResponses.error(.notFound, PingResponses.notFound).response
            }
        }
    }
}
