import HTTPTypes
import Hummingbird
import Runtime

extension RouterMethods {
    /// Routes `spelling` exactly as it is written. Hummingbird's router reads `checks/`,
    /// `checks` and `//checks` as one path; Healthchecks' URLs do not (`checks/` lists,
    /// `checks` is not found), so a request spelled with another trailing slash, or with an
    /// empty segment, is not found here (`ServerResponder.NotFound` answers it).
    ///
    /// `handler` answers `methods`; `otherwise`, when given, every other method (the router
    /// matches methods exactly, and `ServerResponder` routes a method no route names as TRACE).
    @discardableResult
    func on(
        spelled spelling: String, _ methods: [HTTPRequest.Method],
        use handler: @escaping @Sendable (Request, Context) async throws -> Response,
        otherwise refusal: (@Sendable (Request, Context) async throws -> Response)? = nil
    ) -> Self {
        let trailingSlash = spelling.hasSuffix("/")
        func exactly(_ answer: @escaping @Sendable (Request, Context) async throws -> Response) -> @Sendable (Request, Context) async throws -> Response {
            { request, context in
                let path = request.uri.path
                guard path.hasSuffix("/") == trailingSlash, !path.contains("//") else { throw HTTPError(.notFound) }
                return try await answer(request, context)
            }
        }
        let path = RouterPath(spelling)
        for method in HTTPRequest.Method.routed {
            if methods.contains(method) {
                on(path, method: method, use: exactly(handler))
            } else if let refusal {
                on(path, method: method, use: exactly(refusal))
            }
        }
        return self
    }
}

extension HTTPRequest.Method {
    /// The methods routes answer or refuse: HTTP's own.
    static let routed: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options, .connect, .trace]
}
