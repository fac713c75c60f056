import CYAML

/// One step of a document read without building its tree (`YAMLParser.stream`).
public enum YAMLEvent {
    case scalar(Scalar, at: Mark)
    case mappingStart(at: Mark)
    case sequenceStart(at: Mark)
    /// The end of the innermost open mapping or sequence.
    case collectionEnd
}

extension YAMLParser {
    /// Hands the events of a plain document to `visit` in order, without building a `Node`
    /// tree: for a reader that takes only the common shape of a file (a fleet's thousand files
    /// of checks) and leaves every other file to `parse`, which reports its problems.
    ///
    /// A plain document is one document within `limits`, with no syntax error, anchor, alias
    /// or tag. Its scalars are resolved as `parse` resolves them (the core schema for plain
    /// ones). Mapping keys are not checked for duplicates here: that is the reader's to do.
    ///
    /// - Returns: true when the whole stream was read and `visit` accepted every event; false
    ///   as soon as `visit` returns false or the file turns out not to be plain. Events already
    ///   visited may then belong to a file that `parse` rejects.
    public static func stream(_ bytes: [UInt8], limits: ParseLimits = .standard, _ visit: (YAMLEvent) -> Bool) -> Bool {
        guard bytes.count <= limits.maxBytes else { return false }
        var depth = 0
        var documents = 0
        var accepted = true
        let problem = run(bytes) { event in
            let mark = Mark(event.start_mark)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return true
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                accepted = documents == 1
            case YAML_MAPPING_START_EVENT:
                depth += 1
                let start = event.data.mapping_start
                accepted = start.anchor == nil && start.tag == nil && depth <= limits.maxDepth && visit(.mappingStart(at: mark))
            case YAML_SEQUENCE_START_EVENT:
                depth += 1
                let start = event.data.sequence_start
                accepted = start.anchor == nil && start.tag == nil && depth <= limits.maxDepth && visit(.sequenceStart(at: mark))
            case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                depth -= 1
                accepted = visit(.collectionEnd)
            case YAML_SCALAR_EVENT:
                let data = event.data.scalar
                guard data.anchor == nil, data.tag == nil else {
                    accepted = false
                    break
                }
                let text = Scalar.text(data.value, length: data.length)
                let style = Scalar.Style(data.style)
                accepted = visit(.scalar(Scalar(text: text, style: style, value: style == .plain ? CoreSchema.resolve(text) : .string(text)), at: mark))
            case YAML_ALIAS_EVENT:
                accepted = false
            default:
                break
            }
            return !accepted
        }
        return problem == nil && accepted
    }
}

extension Scalar {
    /// A scalar event's text.
    static func text(_ value: UnsafeMutablePointer<yaml_char_t>?, length: Int) -> String {
        value.map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""
    }
}

extension Scalar.Style {
    init(_ style: yaml_scalar_style_t) {
        switch style {
        case YAML_PLAIN_SCALAR_STYLE: self = .plain
        case YAML_LITERAL_SCALAR_STYLE, YAML_FOLDED_SCALAR_STYLE: self = .block
        default: self = .quoted
        }
    }
}
