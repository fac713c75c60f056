import HTTPTypes
import Hummingbird
import Runtime

/// A dashboard page with its headers: no caching, no framing, no inline scripts. Thrown, it is
/// the page answered instead of the one asked for (the login form, a check that is not there
/// or not the viewer's).
struct DashboardAnswer: HTTPResponseError {
    let status: HTTPResponse.Status
    let html: String

    init(_ status: HTTPResponse.Status, _ html: String) {
        self.status = status
        self.html = html
    }

    var response: Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = PingResponses.neverCache
        headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.xFrameOptions] = "DENY"
        headers[.referrerPolicy] = "same-origin"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func response(from request: Request, context: some RequestContext) -> Response { response }
}
