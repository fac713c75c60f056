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

    /// Who an email channel writes to (SPEC §12); the relay and the sender are the server's.
    public struct Email: Sendable, Hashable {
        public var to: [String]
        public var cc: [String]

        public init(to: [String], cc: [String] = []) {
            self.to = to
            self.cc = cc
        }
    }

    public enum Kind: Sendable {
        case webhook(base: Request, down: Request?, up: Request?)
        case command(String)
        case email(Email)
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
        case .email: "email"
        case .integration(let integration): integration.service.rawValue
        }
    }
}
