// libFuzzer harness: the config loader on fuzzed bytes, as `kiothc check` runs it, without the
// file system. The input is one file, or several separated by a line `#~file` (a YAML comment,
// so each part stays a plain config file): each is parsed and decoded (a file the streaming
// decoder takes is also decoded through its tree, and the two must agree), the catalog is built
// across them, the report rendered in every format, and each valid check's schedule evaluated.
// Any trap, sanitizer report or hang is a bug: bad input must come back as diagnostics.
import Foundation
import Monitoring
import YAMLParser

@testable import CheckCatalog

/// One file's bytes, or `#~file` lines separating up to `maxFiles` files.
let separator = Array("\n#~file\n".utf8)
let maxFiles = 4
/// A fixed instant (2026-01-01T00:00:00Z) so a run is reproducible.
let evaluationStart = Date(timeIntervalSince1970: 1_767_225_600)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzYAML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    var drafts: [FileDraft] = []
    var diagnostics: [Diagnostic] = []
    for (index, part) in split(bytes).enumerated() {
        let path = "checks.d/\(index).yaml"
        let (draft, found) = ConfigLoader.decode(part, path: path)
        // A file decoded from libyaml's events must be problem-free and decode as its tree does.
        if StreamingDecoder.decode(part, path: path, limits: .standard, schedules: ScheduleCache()) != nil {
            let (tree, problems) = ConfigLoader.decodeTree(part, path: path)
            precondition(problems.isEmpty && DraftCodec.encoded(tree) == DraftCodec.encoded(draft), "the streaming decoder and the tree disagree")
        }
        drafts.append(draft)
        diagnostics += found
    }
    var builder = CatalogBuilder()
    let catalog = builder.build(drafts)
    let result = LoadResult(catalog: catalog, diagnostics: diagnostics + builder.diagnostics)
    for format in DiagnosticReport.Format.allCases {
        _ = DiagnosticReport(result, strict: true).render(format, colour: true)
    }
    for check in catalog.checks {
        guard case .schedule(let schedule) = check.expectation else { continue }
        let zone = TimeZoneDatabase.zone(named: check.tz) ?? TimeZone(identifier: "UTC")!
        for _ in schedule.times(after: evaluationStart, in: zone).prefix(3) {}
    }
    return 0
}

func split(_ bytes: [UInt8]) -> [[UInt8]] {
    var parts: [[UInt8]] = []
    var rest = bytes[...]
    while parts.count < maxFiles - 1, let range = rest.firstRange(of: separator) {
        parts.append(Array(rest[..<range.lowerBound]))
        rest = rest[range.upperBound...]
    }
    parts.append(Array(rest))
    return parts
}
