import CYAML

/// Parses YAML bytes with libyaml into a positioned `Node` tree, strictly: one document,
/// no anchors or aliases, core-schema tags only, unique mapping keys, bounded size and depth.
///
/// All libyaml work happens inside `parse`; no C pointer outlives the call.
public enum YAMLParser {
    public static func parse(_ bytes: [UInt8], limits: ParseLimits = .standard) -> ParsedDocument {
        if bytes.count > limits.maxBytes {
            let problem = YAMLProblem(
                .fileTooLarge,
                "file is \(bytes.count) bytes, over the limit of \(limits.maxBytes) bytes (4 MiB); split it into several files",
                at: .start)
            return ParsedDocument(root: nil, problems: [problem])
        }
        var builder = TreeBuilder(limits: limits)
        if let problem = run(bytes, { builder.consume($0) }) { builder.problems.append(problem) }
        return ParsedDocument(root: builder.root, problems: builder.problems)
    }

    /// Runs libyaml over `bytes`, handing each event to `consume` until it returns true (stop)
    /// or the stream ends. Returns the parser's error, if it failed before either.
    static func run(_ bytes: [UInt8], _ consume: (yaml_event_t) -> Bool) -> YAMLProblem? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return YAMLProblem(.syntax, "libyaml could not allocate a parser", at: .start)
        }
        defer { yaml_parser_delete(&parser) }

        return bytes.withUnsafeBufferPointer { buffer in
            // libyaml wants a non-null pointer even for empty input.
            let empty: [UInt8] = [0]
            return empty.withUnsafeBufferPointer { emptyBuffer in
                let base = buffer.count > 0 ? buffer.baseAddress! : emptyBuffer.baseAddress!
                yaml_parser_set_input_string(&parser, base, buffer.count)
                var event = yaml_event_t()
                while true {
                    guard yaml_parser_parse(&parser, &event) == 1 else { return syntaxProblem(parser, bytes: buffer) }
                    let done = consume(event)
                    yaml_event_delete(&event)
                    if done { return nil }
                }
            }
        }
    }

    private static func syntaxProblem(_ parser: yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>) -> YAMLProblem {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        if parser.error == YAML_READER_ERROR {
            let mark = markOfOffset(parser.problem_offset, in: bytes)
            var message = problem
            if parser.problem_value >= 0 {
                message += " (byte 0x\(String(parser.problem_value, radix: 16, uppercase: true)))"
            }
            return YAMLProblem(.syntax, "\(message); the file must be UTF-8 text", at: mark)
        }
        let mark = Mark(parser.problem_mark)
        guard let contextText = parser.context.map({ String(cString: $0) }) else {
            return YAMLProblem(.syntax, problem, at: mark)
        }
        let contextMark = Mark(parser.context_mark)
        let note = YAMLProblem.Note(message: contextText, mark: contextMark)
        return YAMLProblem(.syntax, "\(problem) \(contextText)", at: mark, notes: contextMark == mark ? [] : [note])
    }

    /// Line and column of a byte offset, for reader errors, which libyaml reports by offset.
    private static func markOfOffset(_ offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Mark {
        var line = 1
        var column = 1
        for byte in bytes.prefix(min(offset, bytes.count)) {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return Mark(line: line, column: column)
    }
}

extension Mark {
    init(_ mark: yaml_mark_t) {
        self.init(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }
}
