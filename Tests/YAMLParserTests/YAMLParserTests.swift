import TestSupport
import Testing
@testable import YAMLParser

private func parse(_ text: String, limits: ParseLimits = .standard) -> ParsedDocument {
    YAMLParser.parse(Array(text.utf8), limits: limits)
}

private func pairs(_ node: Node?) -> [Node.Pair] {
    guard case .mapping(let pairs)? = node?.content else { return [] }
    return pairs
}

private func scalarValue(_ node: Node) -> ScalarValue? {
    guard case .scalar(let scalar) = node.content else { return nil }
    return scalar.value
}

@Suite("YAML parser")
struct YAMLParserTests {
    @Test("every node keeps its 1-based line and column")
    func positions() {
        let document = parse("checks:\n  db-backup:\n    grace: 1h\n    tags: [a, b]\n")
        #expect(document.problems.isEmpty)
        let checks = pairs(document.root)
        #expect(checks.first?.key.mark == Mark(line: 1, column: 1))
        let check = pairs(checks.first?.value)
        #expect(check.first?.key.mark == Mark(line: 2, column: 3))
        let fields = pairs(check.first?.value)
        #expect(fields.map(\.key.mark) == [Mark(line: 3, column: 5), Mark(line: 4, column: 5)])
        #expect(fields[0].value.mark == Mark(line: 3, column: 12))
        guard case .sequence(let tags) = fields[1].value.content else {
            Issue.record("tags should be a sequence")
            return
        }
        #expect(tags.map(\.mark) == [Mark(line: 4, column: 12), Mark(line: 4, column: 15)])
    }

    @Test("plain scalars resolve with the YAML 1.2 core schema, quoted ones stay strings")
    func coreSchema() {
        let cases: [(String, ScalarValue)] = [
            ("a: 300", .int(300)), ("a: -7", .int(-7)), ("a: 0x1F", .int(31)), ("a: 0o17", .int(15)),
            ("a: 1.5", .float(1.5)), ("a: 1e3", .float(1000)), ("a: true", .bool(true)), ("a: False", .bool(false)),
            ("a: ~", .null), ("a:", .null), ("a: null", .null), ("a: yes", .string("yes")), ("a: off", .string("off")),
            ("a: '300'", .string("300")), ("a: \"true\"", .string("true")), ("a: 1h30m", .string("1h30m")),
            ("a: !!str 12", .string("12")), ("a: 99999999999999999999", .float(1e20)), ("a: 1.2.3", .string("1.2.3")),
            // Words that start like null, true or false but are not one of them stay strings.
            ("a: NULL", .null), ("a: TRUE", .bool(true)), ("a: FALSE", .bool(false)), ("a: Null", .null),
            ("a: name", .string("name")), ("a: nul", .string("nul")), ("a: nulls", .string("nulls")), ("a: tags", .string("tags")),
            ("a: truE", .string("truE")), ("a: falsy", .string("falsy")), ("a: f", .string("f")), ("a: ~x", .string("~x")),
            ("a: True", .bool(true)), ("a: nULL", .string("nULL")), ("a: tRUE", .string("tRUE")), ("a: fALSE", .string("fALSE")),
            ("a: NUll", .string("NUll")), ("a: fals", .string("fals")), ("a: trues", .string("trues")), ("a: Nope", .string("Nope")),
            ("a: -.inf", .float(-.infinity)), ("a: +.Inf", .float(.infinity)), ("a: +12", .int(12)), ("a: .5", .float(0.5)),
            ("a: -x", .string("-x")), ("a: .x", .string(".x")), ("a: 9lives", .string("9lives")),
        ]
        for (text, expected) in cases {
            let document = parse(text)
            #expect(document.problems.isEmpty, "\(text)")
            #expect(pairs(document.root).first.flatMap { scalarValue($0.value) } == expected, "\(text)")
        }
    }

    @Test("a duplicate key is an error at the second key with a note at the first, and the first value is kept")
    func duplicateKey() {
        let document = parse("a: 1\nb: 2\na: 3\n")
        #expect(document.problems.count == 1)
        let problem = document.problems[0]
        #expect(problem.kind == .duplicateKey)
        #expect(problem.mark == Mark(line: 3, column: 1))
        #expect(problem.notes.map(\.mark) == [Mark(line: 1, column: 1)])
        #expect(pairs(document.root).count == 2)
        #expect(scalarValue(pairs(document.root)[0].value) == .int(1))
    }

    @Test("keys that resolve to the same value are duplicates: 0x1 and 1")
    func duplicateResolvedKey() {
        #expect(parse("1: a\n0x1: b\n").problems.map(\.kind) == [.duplicateKey])
        #expect(parse("'1': a\n1: b\n").problems.isEmpty)
    }

    @Test("anchors and aliases are refused, not expanded")
    func aliases() {
        let document = parse("a: &x {b: 1}\nc: *x\n")
        #expect(document.problems.map(\.kind) == [.aliasNotAllowed, .aliasNotAllowed])
        #expect(document.problems.map(\.mark) == [Mark(line: 1, column: 4), Mark(line: 2, column: 4)])
        #expect(pairs(document.root).count == 2)
        guard case .invalid = pairs(document.root)[1].value.content else {
            Issue.record("an alias is replaced by an invalid placeholder")
            return
        }
    }

    @Test("an alias bomb costs nothing: every alias is one error, nothing is expanded")
    func aliasBomb() {
        var text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for level in 1..<9 {
            let previous = Character(UnicodeScalar(UInt8(96 + level)))
            let name = Character(UnicodeScalar(UInt8(97 + level)))
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
        }
        let document = parse(text)
        #expect(document.problems.allSatisfy { $0.kind == .aliasNotAllowed })
        #expect(document.problems.count == 9 + 8 * 9)
    }

    @Test("a second document is an error at its start")
    func multipleDocuments() {
        let document = parse("a: 1\n---\nb: 2\n")
        #expect(document.problems.map(\.kind) == [.multipleDocuments])
        #expect(document.problems.first?.mark == Mark(line: 2, column: 1))
        #expect(parse("---\na: 1\n...\n").problems.isEmpty)
    }

    @Test("tags outside the core schema are refused")
    func tags() {
        #expect(parse("a: !!binary aGVsbG8=").problems.map(\.kind) == [.unsupportedTag])
        #expect(parse("a: !custom x").problems.map(\.kind) == [.unsupportedTag])
        #expect(parse("a: !!python/object:os.system x").problems.map(\.kind) == [.unsupportedTag])
        #expect(parse("a: !!set {x}").problems.map(\.kind) == [.unsupportedTag])
        #expect(parse("a: !!int 5\nb: !!map {c: 1}\nd: !!seq [1]\ne: !!float 3").problems.isEmpty)
        #expect(parse("a: !!int five").problems.map(\.kind) == [.syntax])
    }

    @Test("nesting deeper than the limit is one error at the first level too deep")
    func depth() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let document = parse("a: \(deep)\nb: 2\n")
        #expect(document.problems.map(\.kind) == [.tooDeep])
        #expect(document.problems.first?.mark == Mark(line: 1, column: 67))
        #expect(document.root == nil)
        let fine = String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
        #expect(parse("a: \(fine)").problems.isEmpty)
    }

    @Test("100,000 nested brackets give a clear error, not a crash")
    func bracketFlood() {
        let document = parse(String(repeating: "[", count: 100_000))
        #expect(document.problems.map(\.kind) == [.tooDeep])
        let braces = parse(String(repeating: "{a: ", count: 100_000))
        #expect(braces.problems.map(\.kind) == [.tooDeep])
    }

    @Test("a file over the size limit is refused before parsing")
    func size() {
        let document = parse("a: 12345678901234567890", limits: ParseLimits(maxBytes: 10, maxDepth: 64))
        #expect(document.problems.map(\.kind) == [.fileTooLarge])
        #expect(document.root == nil)
    }

    @Test("a syntax error carries libyaml's position and context")
    func syntaxError() {
        let document = parse("checks:\n  a: {b: 1\n  c: 2\n")
        #expect(document.problems.count == 1)
        #expect(document.problems[0].kind == .syntax)
        #expect(document.problems[0].mark == Mark(line: 3, column: 4))
        #expect(document.problems[0].message.contains("flow mapping"))
        #expect(document.problems[0].notes.map(\.mark) == [Mark(line: 2, column: 6)])
        let tab = parse("a:\n\tb: 1\n")
        #expect(tab.problems.map(\.kind) == [.syntax])
        #expect(tab.problems.first?.mark == Mark(line: 2, column: 1))
    }

    @Test("invalid UTF-8 is an error at the offending byte (here the bad trailing byte after 0xC3)")
    func invalidUTF8() {
        let bytes = Array("a: 1\nb: x".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        let document = YAMLParser.parse(bytes)
        #expect(document.problems.map(\.kind) == [.syntax])
        #expect(document.problems.first?.mark == Mark(line: 2, column: 6))
        #expect(document.problems.first?.message.contains("UTF-8") == true)
    }

    @Test("binary garbage is an error, not a crash")
    func garbage() {
        var generator = SplitMix(seed: 42)
        for _ in 0..<200 {
            let bytes = (0..<256).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = YAMLParser.parse(bytes)
        }
        #expect(YAMLParser.parse([0x00, 0x01, 0x02]).problems.map(\.kind) == [.syntax])
    }

    @Test("an empty file or one with only comments has no document and no problem")
    func empty() {
        #expect(parse("").root == nil)
        #expect(parse("").problems.isEmpty)
        #expect(parse("# nothing here\n").root == nil)
    }

    @Test("a mapping key must be a scalar")
    func complexKey() {
        #expect(parse("? [a, b]\n: 1\n").problems.map(\.kind) == [.complexKey])
    }
}
