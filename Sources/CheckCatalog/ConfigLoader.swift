import BlockingWork
import Foundation
import Synchronization
import YAMLParser

/// The one loader used by `serve`, `check`, `plan` and `status`: reads every YAML file under
/// the config directory in sorted path order, and returns the catalog with every diagnostic.
public enum ConfigLoader {
    /// - Parameter parsed: files decoded by earlier loads, reused where their bytes are
    ///   unchanged, and updated with this load's (the server keeps one across reloads).
    public static func load(
        directory: String, limits: ParseLimits = .standard, reusing parsed: ParsedFiles? = nil, drafts disposal: DraftDisposal = .released
    ) throws(ConfigDirectoryError) -> LoadResult {
        let paths = try ConfigDirectory.yamlFiles(under: directory)
        var diagnostics: [Diagnostic] = []
        var drafts: [FileDraft] = []
        drafts.reserveCapacity(paths.count)
        parsed?.keepOnly(paths)
        for (draft, fileDiagnostics) in loadFiles(paths, limits: limits, reusing: parsed) {
            drafts.append(draft)
            diagnostics += fileDiagnostics
        }
        var builder = CatalogBuilder()
        let catalog = builder.build(drafts)
        diagnostics += builder.diagnostics
        if case .keptUntilExit = disposal { keptUntilExit.withLock { $0.append(drafts) } }
        return LoadResult(catalog: catalog, diagnostics: diagnostics, configDigest: parsed?.digest(of: paths))
    }

    /// What becomes of the decoded files once the catalog is built.
    public enum DraftDisposal: Sendable {
        /// Let go (a server: those it keeps for the next reload are in `ParsedFiles`).
        case released
        /// Kept until the process exits: for a command that loads once and exits, as freeing
        /// a fleet's drafts took it most of a second, and the kernel takes them back at once.
        case keptUntilExit
    }

    private static let keptUntilExit = Mutex<[[FileDraft]]>([])

    /// Every file parsed and decoded, in `paths` order, on as many threads as there are cores:
    /// files are independent until the builder joins them (a million checks are a thousand
    /// files).
    static func loadFiles(_ paths: [String], limits: ParseLimits, reusing parsed: ParsedFiles? = nil) -> [(FileDraft, [Diagnostic])] {
        let schedules = ScheduleCache()
        return parallelMap(paths.count) { index in loadFile(paths[index], limits: limits, schedules: schedules, reusing: parsed) }
    }

    /// Parses and decodes one file. Exposed for tests and fuzzing.
    static func loadFile(
        _ path: String, limits: ParseLimits, schedules: ScheduleCache = ScheduleCache(), reusing parsed: ParsedFiles? = nil
    ) -> (FileDraft, [Diagnostic]) {
        let start = Diagnostic.Location(file: path, line: 1, column: 1)
        let bytes: [UInt8]
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes[.size] as? Int, size > limits.maxBytes {
                let diagnostic = Diagnostic(
                    .error, .fileTooLarge, "file is \(size) bytes, over the limit of \(limits.maxBytes) bytes; split it into several files", at: start)
                return (FileDraft(path: path), [diagnostic])
            }
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            let reason = danglingLinkReason(path) ?? (error as NSError).localizedFailureReason ?? error.localizedDescription
            return (FileDraft(path: path), [Diagnostic(.error, .unreadableFile, "cannot read the file: \(reason)", at: start)])
        }
        if let known = parsed?.decoded(path, bytes: bytes, schedules: schedules) { return known }
        let decoded = decode(bytes, path: path, limits: limits, schedules: schedules)
        parsed?.keep(decoded, for: path, bytes: bytes)
        return decoded
    }

    private static func danglingLinkReason(_ path: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path),
              !FileManager.default.fileExists(atPath: path) else { return nil }
        return "it is a symlink to '\(target)', which does not exist; restore the target or remove the link"
    }

    /// Parses and decodes bytes as if they were the file at `path`: straight from libyaml's
    /// events when the file is the common one `StreamingDecoder` takes, else through its tree.
    static func decode(
        _ bytes: [UInt8], path: String, limits: ParseLimits = .standard, schedules: ScheduleCache = ScheduleCache()
    ) -> (FileDraft, [Diagnostic]) {
        if let draft = StreamingDecoder.decode(bytes, path: path, limits: limits, schedules: schedules) { return (draft, []) }
        return decodeTree(bytes, path: path, limits: limits, schedules: schedules)
    }

    /// `decode` through the file's `Node` tree, which finds every problem.
    static func decodeTree(
        _ bytes: [UInt8], path: String, limits: ParseLimits = .standard, schedules: ScheduleCache = ScheduleCache()
    ) -> (FileDraft, [Diagnostic]) {
        let parsed = YAMLParser.parse(bytes, limits: limits)
        var diagnostics = parsed.problems.map { Diagnostic($0, file: path) }
        // A file whose YAML is broken is not decoded: its schema errors would be noise.
        let fatal: Set<YAMLProblem.Kind> = [.syntax, .fileTooLarge, .multipleDocuments, .tooDeep]
        guard !parsed.problems.contains(where: { fatal.contains($0.kind) }) else {
            return (FileDraft(path: path), diagnostics)
        }
        var decoder = FileDecoder(file: path, schedules: schedules)
        let draft = decoder.decode(parsed.root)
        diagnostics += decoder.diagnostics
        return (draft, capped(diagnostics, path: path))
    }

    /// At most `maxDiagnosticsPerFile` per file, then one saying how many more there are: a
    /// generated or corrupted file must not flood a terminal or a CI log.
    static let maxDiagnosticsPerFile = 100

    static func capped(_ diagnostics: [Diagnostic], path: String) -> [Diagnostic] {
        guard diagnostics.count > maxDiagnosticsPerFile else { return diagnostics }
        let shown = diagnostics.sorted { $0.location < $1.location }.prefix(maxDiagnosticsPerFile)
        let hidden = diagnostics.dropFirst(maxDiagnosticsPerFile)
        let errors = hidden.count { $0.severity == .error }
        let last = shown.last?.location ?? Diagnostic.Location(file: path, line: 1, column: 1)
        let summary = Diagnostic(
            errors > 0 ? .error : .warning, .tooManyProblems,
            "\(hidden.count) more problems in this file are not shown (\(errors) errors); fix the ones above and run again",
            at: last)
        return Array(shown) + [summary]
    }
}

/// The catalog and every problem found while building it.
public struct LoadResult: Sendable {
    public let catalog: Catalog
    /// Sorted by file, line and column.
    public let diagnostics: [Diagnostic]
    /// A digest of the files' paths and bytes as this load read them, for a load that kept
    /// them (`ParsedFiles`: the server's); nil otherwise.
    public let configDigest: UInt64?

    init(catalog: Catalog, diagnostics: [Diagnostic], configDigest: UInt64? = nil) {
        self.catalog = catalog
        self.configDigest = configDigest
        self.diagnostics = diagnostics.enumerated().sorted { a, b in
            a.element.location == b.element.location ? a.offset < b.offset : a.element.location < b.element.location
        }.map(\.element)
    }

    public var errorCount: Int { diagnostics.count { $0.severity == .error } }
    public var warningCount: Int { diagnostics.count { $0.severity == .warning } }
    /// Errors make a configuration invalid; warnings do not.
    public var isValid: Bool { errorCount == 0 }

    /// The same result with more diagnostics, e.g. from resolving secrets.
    public func adding(_ more: [Diagnostic]) -> LoadResult {
        LoadResult(catalog: catalog, diagnostics: diagnostics + more, configDigest: configDigest)
    }
}

extension Diagnostic {
    init(_ problem: YAMLProblem, file: String) {
        let code = Code(rawValue: problem.code) ?? .yamlSyntax
        self.init(
            .error, code, problem.message, at: Location(file: file, problem.mark),
            notes: problem.notes.map { Note($0.message, at: Location(file: file, $0.mark)) })
    }
}
