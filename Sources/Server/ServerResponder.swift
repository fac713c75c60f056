import Hummingbird
import Runtime

/// Dispatches requests: the Pinging API first, on its lean path, then the probes. One
/// responder per listener, because it knows the listener's scheme.
struct ServerResponder: HTTPResponder {
    typealias Context = ServerContext

    let pings: PingEndpoint
    let scheme: String
    /// The admin routes; nil in tests of the ping path alone.
    var reload: ReloadEndpoint? = nil
    var metrics: MetricsEndpoint? = nil
    var api: ManagementAPI? = nil
    var dashboard: Dashboard? = nil
    /// `/-/ready`: configuration loaded and store open; nil answers ready (ping-path tests).
    var ready: (@Sendable () -> Bool)? = nil

    func respond(to request: Request, context: ServerContext) async throws -> Response {
        let path = request.uri.path
        if path.hasPrefix(PingEndpoint.prefix) {
            return await pings.respond(to: request, context: context, scheme: scheme)
        }
        if let api, path.hasPrefix(ManagementAPI.prefix) {
            return await api.respond(to: request, scheme: scheme)
        }
        switch path {
        case "/-/healthy":
            return PingResponses.error(.ok, "OK").response
        case "/-/ready":
            return ready?() ?? true ? PingResponses.error(.ok, "OK").response : PingResponses.error(.serviceUnavailable, "not ready").response
        case ReloadEndpoint.path where reload != nil:
            return await reload?.respond(to: request) ?? PingResponses.error(.notFound, PingResponses.notFound).response
        case MetricsEndpoint.path where metrics != nil:
            return metrics?.respond(to: request) ?? PingResponses.error(.notFound, PingResponses.notFound).response
        default:
            if let dashboard, let response = await dashboard.respond(to: request, scheme: scheme) { return response }
            return PingResponses.error(.notFound, PingResponses.notFound).response
        }
    }
}
