/// Where alerts go (SPEC §6). Declared per project, referred to by checks by name.
public struct Channel: Sendable {
    public enum Direction: String, Sendable, Hashable, CaseIterable { case down, up }

    /// One HTTP request; `down`/`up` overrides replace the fields they set.
    public struct Request: Sendable {
        public var url: Secret?
        public var method: String?
        public var headers: [(name: String, value: Secret)]
        public var body: String?

        public init(url: Secret? = nil, method: String? = nil, headers: [(name: String, value: Secret)] = [], body: String? = nil) {
            self.url = url
            self.method = method
            self.headers = headers
            self.body = body
        }
    }

    public enum Kind: Sendable {
        case webhook(base: Request, down: Request?, up: Request?)
        case command(String)
        /// A service's own API (SPEC §12).
        case integration(Integration)
    }

    public var name: String
    public var kind: Kind
    public var on: Set<Direction>
    public var location: Diagnostic.Location

    public init(name: String, kind: Kind, on: Set<Direction>, location: Diagnostic.Location) {
        self.name = name
        self.kind = kind
        self.on = on
        self.location = location
    }

    public var kindName: String {
        switch kind {
        case .webhook: "webhook"
        case .command: "command"
        case .integration(let integration): integration.service.rawValue
        }
    }
}
