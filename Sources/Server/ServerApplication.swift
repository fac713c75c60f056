import Hummingbird
import PostgresStore
import Runtime

/// The HTTP surface over a runtime: the ping endpoint, the API, the dashboard, `/metrics`,
/// `/-/reload` and the probes, one responder per listener scheme. `kiothc serve` binds it to
/// its listeners; tests build the same with a runtime on a manual clock and drive it through
/// HummingbirdTesting.
struct ServerApplication: Sendable {
    let runtime: Runtime
    let pings: PingEndpoint
    let api: ManagementAPI
    let dashboard: Dashboard
    /// The HTTPS listeners' certificate, for `/metrics`; nil without TLS.
    var certificate: ServingCertificate? = nil

    /// The routes for a listener of `scheme` ("http" or "https": cookies and links follow it).
    func responder(scheme: String) -> ServerResponder {
        var shared: (@Sendable () -> PostgresStore.Statistics)?
        if let store = runtime.store as? PostgresStore { shared = { store.statistics } }
        var tls: (@Sendable () -> ServingCertificate.Status)?
        if let certificate { tls = { certificate.status } }
        return ServerResponder(
            pings: pings, scheme: scheme,
            reload: ReloadEndpoint(token: runtime.adminToken, queue: runtime.reloads, urls: runtime.urls),
            metrics: MetricsEndpoint(
                token: runtime.adminToken, status: runtime.reloadStatus, catalog: runtime.catalog, states: runtime.states,
                meter: runtime.recorder.meter, store: runtime.files?.pingStore,
                shared: shared, heldAlerts: { [runtime] in runtime.heldAlerts }, certificate: tls, clock: runtime.clock.now),
            api: api, dashboard: dashboard,
            badges: BadgeEndpoint(catalog: runtime.catalog, states: runtime.states, signer: api.badges, clock: runtime.clock.now),
            ready: { [runtime] in runtime.isReady })
    }
}

/// The composition root of the HTTP side. The clock and the admin token are the runtime's:
/// deadlines, the API's "now" and the dashboard's ages read the same clock, manual in tests.
func buildApplication(runtime: Runtime, options: ServeOptions) -> ServerApplication {
    var pings = PingEndpoint(catalog: runtime.catalog, recorder: runtime.recorder, maxRequestBody: options.maxRequestBody)
    if runtime.files == nil { pings.liveElsewhere = { [live = runtime.liveChecks] in live.contains($0) } }
    pings.bodyTimeout = .seconds(options.idleTimeoutSeconds)
    let api = ManagementAPI(
        catalog: runtime.catalog, states: runtime.states, reader: runtime.store, pause: runtime.pause, alerts: runtime,
        clock: runtime.clock.now, baseURL: options.baseURL, pingLimit: options.keepPings,
        badges: BadgeSigner(secret: runtime.badgeSecret), status: runtime.reloadStatus)
    let dashboard = Dashboard(
        api: api, token: runtime.adminToken, status: runtime.reloadStatus, sessions: DashboardSessions(), statusPages: StatusPages(secret: runtime.badgeSecret))
    return ServerApplication(runtime: runtime, pings: pings, api: api, dashboard: dashboard)
}
