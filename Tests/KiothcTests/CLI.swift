import Foundation

/// Runs the built `kiothc` binary, as a user or CI would.
struct CLI {
    typealias Output = Child.Output

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary next to the test bundle (SwiftPM builds both into the same folder).
    static var binary: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kiothc")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return repository.appendingPathComponent(".build/debug/kiothc")
    }

    /// Runs kiothc to its end; `input` is its standard input (otherwise the test's own).
    static func run(_ arguments: [String], environment: [String: String] = [:], input: Data? = nil, in directory: URL = repository) async throws -> Output {
        try await start(arguments, environment: environment, input: input, in: directory).output()
    }

    /// Starts kiothc; `output()` awaits its exit status and output.
    static func start(_ arguments: [String], environment: [String: String] = [:], input: Data? = nil, in directory: URL = repository) throws -> Child {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        return try Child(process, input: input)
    }
}
