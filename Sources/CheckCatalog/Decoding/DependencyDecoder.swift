import YAMLParser

/// Reads `depends_on:` (SPEC §14); `CatalogBuilder` resolves the entries once every file is read.
extension FileDecoder {
    /// `depends_on:` of a check: `key` (its own project) or `project/key`, each with its place.
    mutating func decodeDependencies(_ node: Node, check key: String) -> [Dependency]? {
        guard let items = reader.stringList(node, what: "'depends_on' of check '\(key)'", splittingString: false) else { return nil }
        var dependencies: [Dependency] = []
        for (text, mark) in items {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard (1...2).contains(parts.count), !parts.contains(where: \.isEmpty) else {
                reader.report(
                    .invalidValue, "'depends_on' entry '\(text.prefix(64))' of check '\(key)' must be a check key or 'project/key'", at: mark)
                continue
            }
            dependencies.append(Dependency(
                project: parts.count == 2 ? parts[0] : nil, key: parts[parts.count - 1], text: text, location: reader.location(mark)))
        }
        return dependencies
    }
}

/// One `depends_on:` entry as written.
struct Dependency {
    /// nil: the project of the check that declares it.
    var project: String?
    var key: String
    var text: String
    var location: Diagnostic.Location
}
