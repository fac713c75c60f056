import Foundation

/// A libFuzzer corpus kept in the repository (`Fuzz/Corpus/<target>`, docs/reliability.md),
/// for the tests that replay it on every `swift test`.
public struct FuzzCorpus: Sendable {
    public let directory: URL

    public init(_ target: String) {
        directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/Corpus/\(target)")
    }

    /// The inputs' file names, sorted.
    public func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    public func bytes(of name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }
}
