/// A value that must not be written in config files in clear: a literal, an environment
/// variable or a file. Its value never appears in logs, diagnostics or API responses.
public struct Secret: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        case literal(String)
        case env(String)
        case file(String)
    }

    public var source: Source
    /// Where the secret is declared, for diagnostics when it cannot be resolved.
    public var location: Diagnostic.Location

    public init(_ source: Source, at location: Diagnostic.Location) {
        self.source = source
        self.location = location
    }

    /// How the secret is referred to in messages, never its value.
    public var reference: String {
        switch source {
        case .literal: "a literal value"
        case .env(let name): "environment variable '\(name)'"
        case .file(let path): "file '\(path)'"
        }
    }
}
