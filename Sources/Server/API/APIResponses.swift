import HTTPTypes
import Hummingbird
import Runtime

/// Responses of the management API, with Healthchecks' CORS headers on every one (its `@cors`
/// decorator): any origin, the `X-Api-Key` header, the route's methods, 10 minutes of preflight.
enum APIResponses {
    static func json(_ status: HTTPResponse.Status, _ document: JSONValue, methods: String = "GET, OPTIONS") -> Response {
        var headers = cors(methods)
        headers[.contentType] = "application/json"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: document.rendered() + "\n")))
    }

    /// `{"error": "..."}`, as Healthchecks' API errors.
    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(status, .object([("error", .string(message))]))
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = cors("GET, OPTIONS")
        headers[.contentType] = "text/plain; charset=utf-8"
        // A body is the job's output: never let a browser sniff it into HTML.
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func notFound() -> Response { error(.notFound, "not found") }

    static func preflight(_ methods: [HTTPRequest.Method]) -> Response {
        Response(status: .noContent, headers: cors(list(methods)))
    }

    static func methodNotAllowed(_ methods: [HTTPRequest.Method], _ method: HTTPRequest.Method, managesChecks: Bool) -> Response {
        let message: String
        if managesChecks && [.post, .delete, .put, .patch].contains(method) {
            message = "checks are managed in configuration files: edit the YAML under the config directory (checks.d/) and the server reloads it; the API cannot create, update or delete checks"
        } else {
            message = "method not allowed: use \(list(methods))"
        }
        var response = error(.methodNotAllowed, message)
        response.headers[.allow] = list(methods)
        response.headers[.accessControlAllowMethods] = list(methods)
        return response
    }

    static func list(_ methods: [HTTPRequest.Method]) -> String {
        (methods.map(\.rawValue) + ["OPTIONS"]).joined(separator: ", ")
    }

    static func cors(_ methods: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.accessControlAllowOrigin] = "*"
        headers[.accessControlAllowHeaders] = "X-Api-Key"
        headers[.accessControlAllowMethods] = methods
        headers[.accessControlMaxAge] = "600"
        headers[.cacheControl] = PingResponses.neverCache
        return headers
    }
}

/// An API error, answered as Healthchecks answers them: `{"error": "..."}` with the CORS headers.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    func response(from request: Request, context: some RequestContext) -> Response {
        APIResponses.error(status, message)
    }
}
