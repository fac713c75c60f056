import Foundation

@testable import PingStore

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        let made = FileManager.default.temporaryDirectory
            .appendingPathComponent("kiothc-store-\(UUID().uuidString.lowercased())").path
        try FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: false)
        path = made
    }

    var data: DataDirectory { DataDirectory(path) }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Run `body` with a temp directory that is removed afterwards, even on failure.
    static func with<T>(_ body: (TemporaryDirectory) async throws -> T) async throws -> T {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        return try await body(directory)
    }
}

func readText(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8)
}

func lines(_ path: String) throws -> [String] {
    try readText(path).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
}
