import HTTPTypes
import Hummingbird
import Runtime

/// An answer of the Pinging API, in a form both ping paths write: Hummingbird's responder
/// (as a `Response`) and the event loop's `PingChannelHandler` (as HTTP parts).
struct PingAnswer: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    /// Empty for HEAD (whose headers carry the length) and 204.
    var body = ByteBuffer()
    /// The request's body was not read to its end: the connection closes after the answer.
    var closesConnection = false

    var response: Response {
        var headers = headers
        if closesConnection { headers[.connection] = "close" }
        if body.readableBytes == 0 { return Response(status: status, headers: headers) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }
}
