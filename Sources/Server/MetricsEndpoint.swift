import Foundation
import HTTPTypes
import Hummingbird

/// `GET /metrics` in the Prometheus text exposition format (SPEC §7), for the admin token.
/// For now the reload metrics; per-check and ping metrics join them as `samples` grows.
struct MetricsEndpoint: Sendable {
    static let path = "/metrics"

    let token: AdminToken
    let status: CurrentReloadStatus

    func respond(to request: Request) -> Response {
        guard request.method == .get || request.method == .head else {
            var response = PingResponses.error(.methodNotAllowed, "method not allowed")
            response.headers[.allow] = "GET, HEAD"
            return response
        }
        guard token.authorizes(request.headers[.authorization]) else { return ReloadEndpoint.unauthorized() }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        headers[.cacheControl] = PingResponses.neverCache
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: Self.render(status.snapshot))))
    }

    /// The exposition text; one `# HELP` and `# TYPE` per family.
    static func render(_ status: ReloadStatus) -> String {
        var out = ""
        func gauge(_ name: String, _ help: String, _ value: String, labels: String = "") {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name)\(labels) \(value)\n"
        }
        gauge("kiothc_config_last_reload_successful", "Whether the last configuration load succeeded (1) or was rejected (0).", status.lastSucceeded ? "1" : "0")
        gauge(
            "kiothc_config_last_reload_success_timestamp_seconds", "Unix time of the last successful configuration load.",
            String(format: "%.3f", Double(status.lastSuccess) / 1_000_000))
        gauge(
            "kiothc_config_hash", "Hash of the configuration serving now (top 48 bits of its FNV-1a hash; the full hash is the label).",
            String(format: "%.0f", ConfigFingerprint.metricValue(status.servingHash)),
            labels: "{hash=\"\(ConfigFingerprint.hex(status.servingHash))\"}")
        return out
    }
}
