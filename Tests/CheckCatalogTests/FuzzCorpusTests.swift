import Foundation
import Testing
import TestSupport
@testable import CheckCatalog

/// The libFuzzer corpus of the loader (Fuzz/Corpus/yaml, docs/reliability.md) replayed on every
/// `swift test`, without libFuzzer: each input, read as one file (the harness's `#~file`
/// separators are YAML comments), must come back as a catalog and diagnostics, never a trap.
@Suite("YAML fuzz corpus")
struct FuzzCorpusTests {
    static let corpus = FuzzCorpus("yaml")

    @Test("every corpus input loads to diagnostics that each point at a line and column of the file")
    func corpusLoads() async throws {
        let names = try Self.corpus.names()
        #expect(names.count >= 50, "the corpus is missing or was emptied")
        // Seconds of work (minutes under a sanitizer): on a thread of its own, not one of the
        // pool the other tests run on.
        let (problems, invalid) = try await computeOnOwnThread { try Self.load(names) }
        #expect(problems == [])
        // Most fuzzed inputs are broken; a corpus of only valid files would test little.
        #expect(invalid > names.count / 2)
    }

    /// Loads each input; returns what is wrong with the results and how many were invalid.
    static func load(_ names: [String]) throws -> (problems: [String], invalid: Int) {
        var problems: [String] = []
        var invalid = 0
        for name in names {
            let bytes = try corpus.bytes(of: name)
            let (draft, diagnostics) = ConfigLoader.decode(bytes, path: name)
            var builder = CatalogBuilder()
            let result = LoadResult(catalog: builder.build([draft]), diagnostics: diagnostics + builder.diagnostics)
            for diagnostic in result.diagnostics where diagnostic.location.line < 1 || diagnostic.location.column < 1 {
                problems.append("\(name): no line and column: \(diagnostic.message)")
            }
            if !result.isValid { invalid += 1 }
            if !DiagnosticReport(result, strict: false).render(.text).hasSuffix("\n") {
                problems.append("\(name): the text report does not end with a newline")
            }
        }
        return (problems, invalid)
    }
}
