/// Something wrong with a YAML file itself, before any schema is applied.
public struct YAMLProblem: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case syntax = "yaml-syntax"
        case duplicateKey = "duplicate-key"
        case aliasNotAllowed = "alias-not-allowed"
        case multipleDocuments = "multiple-documents"
        case unsupportedTag = "unsupported-tag"
        case tooDeep = "too-deep"
        case fileTooLarge = "file-too-large"
        case complexKey = "complex-key"
    }

    public struct Note: Sendable, Hashable {
        public var message: String
        public var mark: Mark
    }

    public var kind: Kind
    public var message: String
    public var mark: Mark
    public var notes: [Note]

    public init(_ kind: Kind, _ message: String, at mark: Mark, notes: [Note] = []) {
        self.kind = kind
        self.message = message
        self.mark = mark
        self.notes = notes
    }

    /// The stable diagnostic code, e.g. `duplicate-key`.
    public var code: String { kind.rawValue }
}

/// Limits that keep hostile or mistaken input from costing unbounded time or memory.
public struct ParseLimits: Sendable {
    public var maxBytes: Int
    public var maxDepth: Int

    public init(maxBytes: Int = 4 * 1024 * 1024, maxDepth: Int = 64) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
    }

    public static let standard = ParseLimits()
}

/// The outcome of parsing one file: the document (nil for an empty file or one that could
/// not be parsed at all) and every problem found.
public struct ParsedDocument: Sendable {
    public var root: Node?
    public var problems: [YAMLProblem]
}
