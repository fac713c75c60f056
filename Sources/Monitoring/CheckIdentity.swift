/// A check's identity (SPEC §1.3): its project id and its key within the project. Names and
/// slugs may change; this does not.
public struct CheckIdentity: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var project: String
    public var key: String

    public init(project: String, key: String) {
        self.project = project
        self.key = key
    }

    public var description: String { "\(project)/\(key)" }

    public static func < (lhs: CheckIdentity, rhs: CheckIdentity) -> Bool {
        (lhs.project, lhs.key) < (rhs.project, rhs.key)
    }
}
