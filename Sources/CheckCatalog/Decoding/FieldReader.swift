import YAMLParser

/// Reads typed values out of one file's node tree, collecting a diagnostic for every value
/// that is not what the schema wants. Getters return nil after reporting.
struct FieldReader {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) {
        self.file = file
    }

    func location(_ mark: Mark) -> Diagnostic.Location {
        Diagnostic.Location(file: file, mark)
    }

    /// Records an error: the reader only finds errors; warnings are cross-file findings.
    mutating func report(_ code: Code, _ message: String, at mark: Mark, notes: [Diagnostic.Note] = []) {
        diagnostics.append(Diagnostic(.error, code, message, at: location(mark), notes: notes))
    }

    /// The entries of a mapping, keyed by their text, with unknown keys reported (with a
    /// "did you mean" note when a known key is close). nil, after a report, if not a mapping.
    mutating func fields(of node: Node, in context: @autoclosure () -> String, known: [String]) -> Fields? {
        guard let pairs = mapping(node, what: context()) else { return nil }
        var slots = [Int](repeating: -1, count: known.count)
        // By index: binding each pair would copy (retain) both of its nodes.
        for index in pairs.indices {
            let key = keyText(pairs[index].key)
            if let slot = known.firstIndex(where: { $0.isSameKey(as: key) }) {
                slots[slot] = index
                continue
            }
            var notes: [Diagnostic.Note] = []
            if let close = Suggestion.closest(to: key, in: known) {
                notes.append(Diagnostic.Note("did you mean '\(close)'?"))
            }
            notes.append(Diagnostic.Note("known keys in \(context()): \(known.joined(separator: ", "))"))
            report(.unknownKey, "unknown key '\(key)' in \(context())", at: pairs[index].key.mark, notes: notes)
        }
        return Fields(pairs: pairs, known: known, slots: slots)
    }

    /// The pairs of a mapping node, or nil after a type report.
    mutating func mapping(_ node: Node, what: @autoclosure () -> String) -> [Node.Pair]? {
        if case .mapping(let pairs) = node.content { return pairs }
        if case .invalid = node.content { return nil }
        report(.typeMismatch, "\(what()) must be a mapping, not \(describe(node))", at: node.mark)
        return nil
    }

    func keyText(_ node: Node) -> String {
        if case .scalar(let scalar) = node.content { return scalar.text }
        return ""
    }

    mutating func string(_ node: Node, what: @autoclosure () -> String) -> String? {
        if case .invalid = node.content { return nil }
        guard case .scalar(let scalar) = node.content else {
            report(.typeMismatch, "\(what()) must be a string, not \(describe(node))", at: node.mark)
            return nil
        }
        switch scalar.value {
        case .string(let text): return text
        // A plain number is text the user meant literally, e.g. `name: 2024`.
        case .int, .float: return scalar.text
        case .null, .bool:
            report(.typeMismatch, "\(what()) must be a string, not \(describe(node)); quote it if '\(scalar.text)' is meant", at: node.mark)
            return nil
        }
    }

    mutating func bool(_ node: Node, what: @autoclosure () -> String) -> Bool? {
        if case .scalar(let scalar) = node.content, case .bool(let value) = scalar.value { return value }
        if case .invalid = node.content { return nil }
        report(.typeMismatch, "\(what()) must be true or false, not \(describe(node))", at: node.mark)
        return nil
    }

    /// A duration in seconds within `range` (SPEC §1.2: 60 s … 365 d for timeout and grace).
    mutating func duration(_ node: Node, what: @autoclosure () -> String, range: ClosedRange<Int>) -> Int? {
        if case .invalid = node.content { return nil }
        guard case .scalar(let scalar) = node.content else {
            report(.typeMismatch, "\(what()) must be a duration such as '1h' or a number of seconds, not \(describe(node))", at: node.mark)
            return nil
        }
        let seconds: Int
        switch scalar.value {
        case .int(let value):
            seconds = value
        case .string(let text):
            switch DurationSyntax.parse(text) {
            case .success(let value): seconds = value
            case .failure(let error):
                report(.invalidDuration, "\(what()): \(error.message)", at: node.mark)
                return nil
            }
        case .float:
            report(.invalidDuration, "\(what()): '\(scalar.text)' is not a whole number of seconds", at: node.mark)
            return nil
        case .null, .bool:
            report(.typeMismatch, "\(what()) must be a duration such as '1h' or a number of seconds, not \(describe(node))", at: node.mark)
            return nil
        }
        guard range.contains(seconds) else {
            let value = DurationSyntax.format(seconds)
            let written = value == scalar.text ? "" : " ('\(scalar.text)')"
            report(
                .outOfRange,
                "\(what()) is \(value)\(written), out of range: it must be between \(DurationSyntax.format(range.lowerBound)) and \(DurationSyntax.format(range.upperBound))",
                at: node.mark)
            return nil
        }
        return seconds
    }

    /// A list of strings; a single string is accepted as a one-element list when `splitting`
    /// says how (tags are space-separated as in Healthchecks).
    mutating func stringList(_ node: Node, what: @autoclosure () -> String, splittingString: Bool) -> [(String, Mark)]? {
        switch node.content {
        case .invalid:
            return nil
        case .sequence(let items):
            var values: [(String, Mark)] = []
            for item in items {
                if let value = string(item, what: "each item of \(what())") { values.append((value, item.mark)) }
            }
            return values
        case .scalar(let scalar) where splittingString:
            if case .string(let text) = scalar.value {
                return text.split(whereSeparator: \.isWhitespace).map { (String($0), node.mark) }
            }
            fallthrough
        default:
            report(.typeMismatch, "\(what()) must be a list, not \(describe(node))", at: node.mark)
            return nil
        }
    }

    /// A secret: a literal string, `{env: NAME}` or `{file: PATH}`.
    mutating func secret(_ node: Node, what: String) -> Secret? {
        if case .invalid = node.content { return nil }
        if case .scalar = node.content {
            return string(node, what: what).map { Secret(.literal($0), at: location(node.mark)) }
        }
        if case .sequence = node.content {
            report(.typeMismatch, "\(what) must be a string, {env: NAME} or {file: PATH}, not a list", at: node.mark)
            return nil
        }
        guard let fields = fields(of: node, in: what, known: ["env", "file"]) else { return nil }
        switch (fields["env"], fields["file"]) {
        case (let env?, nil):
            guard let name = string(env.value, what: "\(what) env"), !name.isEmpty else {
                if case .scalar = env.value.content { report(.invalidValue, "\(what): the environment variable name is empty", at: env.value.mark) }
                return nil
            }
            return Secret(.env(name), at: location(node.mark))
        case (nil, let file?):
            guard let path = string(file.value, what: "\(what) file"), !path.isEmpty else {
                if case .scalar = file.value.content { report(.invalidValue, "\(what): the file path is empty", at: file.value.mark) }
                return nil
            }
            return Secret(.file(path), at: location(node.mark))
        case (nil, nil):
            if case .mapping(let pairs) = node.content, pairs.isEmpty {
                report(.missingKey, "\(what) needs 'env' or 'file', e.g. {env: MY_TOKEN}", at: node.mark)
            }
            return nil
        case (_?, _?):
            report(.conflictingKeys, "\(what) takes either 'env' or 'file', not both", at: node.mark)
            return nil
        }
    }

    func describe(_ node: Node) -> String {
        switch node.content {
        case .scalar(let scalar):
            switch scalar.value {
            case .null: "null"
            case .string: "'\(scalar.text)'"
            default: "\(scalar.value.kindDescription) ('\(scalar.text)')"
            }
        default: node.kindDescription
        }
    }
}

/// The known entries of one mapping, by key.
struct Fields {
    let pairs: [Node.Pair]
    /// The keys the mapping was read with.
    let known: [String]
    /// For each known key, where its pair is in `pairs`; -1 when the mapping lacks it.
    let slots: [Int]

    subscript(key: String) -> Node.Pair? {
        known.firstIndex { $0.isSameKey(as: key) }.flatMap { self[known: $0] }
    }

    /// The pair of `known[index]`: read without comparing any text (a check's fields are read
    /// this way, a million times in a fleet's config).
    subscript(known index: Int) -> Node.Pair? {
        slots[index] < 0 ? nil : pairs[slots[index]]
    }

    var count: Int { slots.count { $0 >= 0 } }
}
