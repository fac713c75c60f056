import Foundation
import HTTPTypes
import Hummingbird
import Runtime

/// `POST /-/reload` (SPEC §5): reload now and answer with the outcome. 200 with a JSON summary
/// of what changed; 400 with the diagnostics of `kiothc check --format json` when the new
/// configuration is rejected (the old one keeps serving); 500 when the reload failed for
/// another reason; 401 without the admin token.
struct ReloadEndpoint: Sendable {
    static let path = "/-/reload"

    let token: AdminToken
    let queue: ReloadQueue
    let urls: PingURLFormat

    /// POST; other methods are refused.
    func respond(to request: Request) async -> Response {
        guard token.authorizes(request.headers[.authorization]) else { return Self.unauthorized() }
        switch await queue.request() {
        case .applied(let change, let hash, let checks):
            let report = CatalogChangeReport(change, urls: urls)
            return Self.json(.ok, CatalogChangeReport.encode(Summary(status: "applied", config_hash: ConfigFingerprint.hex(hash), checks: checks, changes: report.document)))
        case .unchanged(let hash):
            return Self.json(.ok, CatalogChangeReport.encode(Summary(status: "unchanged", config_hash: ConfigFingerprint.hex(hash), checks: nil, changes: nil)))
        case .rejected(let diagnostics, _):
            return Self.json(.badRequest, diagnostics)
        case .failed(let message):
            return Self.json(.internalServerError, CatalogChangeReport.encode(["error": message]))
        }
    }

    struct Summary: Encodable {
        var status: String
        var config_hash: String
        var checks: Int?
        var changes: CatalogChangeReport.Document?
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = PingResponses.neverCache
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func methodNotAllowed() -> Response {
        var response = json(.methodNotAllowed, #"{"error": "use POST /-/reload"}"# + "\n")
        response.headers[.allow] = "POST"
        return response
    }

    static func unauthorized() -> Response {
        var response = json(.unauthorized, #"{"error": "missing or wrong admin token: send Authorization: Bearer <token from the data directory's admin-token file>"}"# + "\n")
        response.headers[.wwwAuthenticate] = #"Bearer realm="kiothc""#
        return response
    }
}
