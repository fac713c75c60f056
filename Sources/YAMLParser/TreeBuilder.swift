import CYAML

/// Turns libyaml events into a `Node` tree with an explicit stack (no recursion), enforcing
/// the strict rules as it goes and collecting every problem it can.
struct TreeBuilder {
    /// An open collection. Frames are changed in place on the stack (never popped and pushed
    /// per child), so the arrays stay unique and appends stay O(1).
    private struct Frame {
        let start: Mark
        let isMapping: Bool
        var items: [Node] = []
        var pairs: [Node.Pair] = []
        var pendingKey: Node?
        var seen: [ScalarValue: Mark] = [:]

        init(start: Mark, isMapping: Bool) {
            self.start = start
            self.isMapping = isMapping
            // A check's mapping has a handful of keys: room for them at once, not four growths.
            if isMapping { pairs.reserveCapacity(8) }
        }
    }

    let limits: ParseLimits
    var root: Node?
    var problems: [YAMLProblem] = []
    private var stack: [Frame] = []
    private var documents = 0

    init(limits: ParseLimits) {
        self.limits = limits
    }

    /// Consumes one event; returns true when parsing should stop.
    mutating func consume(_ event: yaml_event_t) -> Bool {
        let mark = Mark(event.start_mark)
        switch event.type {
        case YAML_STREAM_END_EVENT:
            return true
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                problems.append(YAMLProblem(
                    .multipleDocuments,
                    "a file holds one YAML document; move the second document ('---') to its own file",
                    at: mark))
                return true
            }
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            if isMapping {
                checkProperties(anchor: event.data.mapping_start.anchor, tag: event.data.mapping_start.tag, allowed: "tag:yaml.org,2002:map", at: mark)
            } else {
                checkProperties(anchor: event.data.sequence_start.anchor, tag: event.data.sequence_start.tag, allowed: "tag:yaml.org,2002:seq", at: mark)
            }
            if stack.count >= limits.maxDepth {
                // Stop here: libyaml's cost grows with the square of the flow nesting depth,
                // so reading on through 100,000 '[' would take minutes.
                problems.append(YAMLProblem(
                    .tooDeep, "nesting is deeper than \(limits.maxDepth) levels; flatten the structure", at: mark))
                root = nil
                return true
            }
            stack.append(Frame(start: mark, isMapping: isMapping))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return false }
            deliver(Node(frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.items), at: frame.start))
        case YAML_ALIAS_EVENT:
            let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
            problems.append(YAMLProblem(
                .aliasNotAllowed, "aliases are not allowed ('*\(name)'); repeat the value, or use project defaults", at: mark))
            deliver(Node(.invalid, at: mark))
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let text = Scalar.text(data.value, length: data.length)
            let scalar = scalar(text, style: data.style, anchor: data.anchor, tag: data.tag, at: mark)
            deliver(Node(.scalar(scalar), at: mark))
        default:
            break
        }
        return false
    }

    private mutating func scalar(
        _ text: String, style yamlStyle: yaml_scalar_style_t,
        anchor: UnsafeMutablePointer<yaml_char_t>?, tag yamlTag: UnsafeMutablePointer<yaml_char_t>?, at mark: Mark
    ) -> Scalar {
        let style = Scalar.Style(yamlStyle)
        if let anchor {
            anchorProblem(String(cString: anchor), at: mark)
        }
        let tag = yamlTag.map { String(cString: $0) }
        let value: ScalarValue
        switch tag {
        case nil:
            value = style == .plain ? CoreSchema.resolve(text) : .string(text)
        case "!", "tag:yaml.org,2002:str":
            value = .string(text)
        case "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float":
            let resolved = CoreSchema.resolve(text)
            let wanted = String(tag!.dropFirst("tag:yaml.org,2002:".count))
            if CoreSchema.tagName(of: resolved) == wanted || (wanted == "float" && CoreSchema.tagName(of: resolved) == "int") {
                value = resolved
            } else {
                problems.append(YAMLProblem(.syntax, "'\(text)' is not a valid !!\(wanted)", at: mark))
                value = .string(text)
            }
        case let other?:
            problems.append(unsupportedTag(other, at: mark))
            value = .string(text)
        }
        return Scalar(text: text, style: style, value: value)
    }

    private mutating func checkProperties(anchor: UnsafeMutablePointer<yaml_char_t>?, tag: UnsafeMutablePointer<yaml_char_t>?, allowed: String, at mark: Mark) {
        if let anchor {
            anchorProblem(String(cString: anchor), at: mark)
        }
        if let tag {
            let name = String(cString: tag)
            if name != allowed && name != "!" {
                problems.append(unsupportedTag(name, at: mark))
            }
        }
    }

    private mutating func anchorProblem(_ name: String, at mark: Mark) {
        problems.append(YAMLProblem(
            .aliasNotAllowed, "anchors are not allowed ('&\(name)'); repeat the value, or use project defaults", at: mark))
    }

    private func unsupportedTag(_ tag: String, at mark: Mark) -> YAMLProblem {
        let shown = tag.hasPrefix("tag:yaml.org,2002:") ? "!!" + tag.dropFirst("tag:yaml.org,2002:".count) : tag
        return YAMLProblem(.unsupportedTag, "tag '\(shown)' is not supported; only the YAML core schema is (remove the tag)", at: mark)
    }

    /// A mapping's keys are looked up by hashing from this many on; below, a scan of its pairs
    /// is cheaper (a check's mapping has a handful; a million of them are a fleet's config).
    static let indexedPairs = 16

    /// Where `value` is first a key of the mapping so far (its pairs hold no duplicates).
    private static func firstMark(of value: ScalarValue, in pairs: [Node.Pair], seen: [ScalarValue: Mark]) -> Mark? {
        guard pairs.count <= indexedPairs else { return seen[value] }
        for index in pairs.indices {
            if case .scalar(let earlier) = pairs[index].key.content, earlier.value.isSame(as: value) { return pairs[index].key.mark }
        }
        return nil
    }

    /// Hands a finished node to its parent collection, or makes it the document's root.
    private mutating func deliver(_ node: Node) {
        let top = stack.count - 1
        guard top >= 0 else {
            root = node
            return
        }
        guard stack[top].isMapping else {
            stack[top].items.append(node)
            return
        }
        guard let key = stack[top].pendingKey.take() else {
            stack[top].pendingKey = node
            return
        }
        guard case .scalar(let scalar) = key.content else {
            problems.append(YAMLProblem(.complexKey, "a mapping key must be a plain value, not \(key.kindDescription)", at: key.mark))
            return
        }
        if let first = Self.firstMark(of: scalar.value, in: stack[top].pairs, seen: stack[top].seen) {
            problems.append(YAMLProblem(
                .duplicateKey, "duplicate key '\(scalar.text)'", at: key.mark,
                notes: [YAMLProblem.Note(message: "first defined here", mark: first)]))
            return
        }
        if stack[top].pairs.count >= Self.indexedPairs {
            if stack[top].seen.isEmpty {
                for pair in stack[top].pairs {
                    if case .scalar(let earlier) = pair.key.content { stack[top].seen[earlier.value] = pair.key.mark }
                }
            }
            stack[top].seen[scalar.value] = key.mark
        }
        stack[top].pairs.append(Node.Pair(key: key, value: node))
    }
}

extension ScalarValue {
    /// `==`, with two strings told apart by `isSameKey` first: a mapping's keys are checked
    /// against each other for duplicates, and keys differ.
    @inline(__always)
    fileprivate func isSame(as other: ScalarValue) -> Bool {
        if case .string(let a) = self, case .string(let b) = other { return a.isSameKey(as: b) }
        return self == other
    }
}

extension String {
    /// `==`, answered from the length and first byte when they differ: mapping keys are
    /// compared with each other and with a schema's for every check of a fleet, and most differ.
    @inline(__always)
    public func isSameKey(as other: String) -> Bool {
        utf8.count == other.utf8.count && utf8.first == other.utf8.first && self == other
    }
}
