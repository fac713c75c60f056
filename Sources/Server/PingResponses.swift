import HTTPTypes
import Hummingbird
import Runtime

/// The exact answers of the Pinging API (SPEC §2).
enum PingResponses {
    static let allowedMethods = "HEAD, GET, POST, OPTIONS"
    static let pingBodyLimit = HTTPField.Name("Ping-Body-Limit")!
    static let neverCache = "max-age=0, no-cache, no-store, must-revalidate, private"

    static func ok(head: Bool) -> PingAnswer {
        head ? PingAnswer(status: .ok, headers: okHeadHeaders) : PingAnswer(status: .ok, headers: okHeaders, body: okBody)
    }

    /// Built once: the answer to almost every ping.
    private static let okHeaders: HTTPFields = {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.accessControlAllowOrigin] = "*"
        headers[pingBodyLimit] = String(PingBody.storedLimit)
        headers[.cacheControl] = neverCache
        headers[.expires] = "0"
        return headers
    }()
    private static let okHeadHeaders: HTTPFields = {
        var headers = okHeaders
        headers[.contentLength] = "2"
        return headers
    }()
    private static let okBody = ByteBuffer(string: "OK")

    static func error(_ status: HTTPResponse.Status, _ text: String, head: Bool = false) -> PingAnswer {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.cacheControl] = neverCache
        if head {
            headers[.contentLength] = String(text.utf8.count)
            return PingAnswer(status: status, headers: headers)
        }
        return PingAnswer(status: status, headers: headers, body: ByteBuffer(string: text))
    }

    static let notFound = "not found"
    /// A check another instance's newer configuration added (a rolling deploy): not stored.
    static let notLoadedHere = "check not loaded on this instance yet, try again"
    static let invalidURLFormat = "invalid url format"
    static let invalidUUIDFormat = "invalid uuid format"
    static let ambiguousSlug = "ambiguous slug"
    static let payloadTooLarge = "payload too large"
    static let bodyTooSlow = "request body too slow"

    /// A CORS preflight: 204 and no ping.
    static func preflight() -> PingAnswer {
        var headers = HTTPFields()
        headers[.accessControlAllowOrigin] = "*"
        headers[.accessControlAllowMethods] = allowedMethods
        headers[.accessControlAllowHeaders] = "*"
        headers[.accessControlMaxAge] = "600"
        return PingAnswer(status: .noContent, headers: headers)
    }

    static func methodNotAllowed() -> PingAnswer {
        var response = error(.methodNotAllowed, "method not allowed")
        response.headers[.allow] = allowedMethods
        return response
    }

    /// A check another instance's newer configuration added (several instances on PostgreSQL,
    /// mid-deploy): not stored here; a retry reaches an instance that serves it.
    static func notLoadedHere(head: Bool) -> PingAnswer {
        var response = error(.serviceUnavailable, notLoadedHere, head: head)
        response.headers[.retryAfter] = "1"
        return response
    }

    static func unavailable() -> PingAnswer {
        var response = error(.serviceUnavailable, "ping not stored, try again")
        response.headers[.retryAfter] = "1"
        return response
    }
}
