import Foundation
import Synchronization

/// Runs the built `kiothc` binary, as a user or CI would.
struct CLI {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary next to the test bundle (SwiftPM builds both into the same folder).
    static var binary: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kiothc")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return repository.appendingPathComponent(".build/debug/kiothc")
    }

    /// Runs kiothc to its end; `input` is its standard input (otherwise the test's own).
    static func run(_ arguments: [String], environment: [String: String] = [:], input: Data? = nil, in directory: URL = repository) throws -> Output {
        try start(arguments, environment: environment, input: input, in: directory).wait()
    }

    /// Starts kiothc; `wait()` collects its output and exit status.
    static func start(_ arguments: [String], environment: [String: String] = [:], input: Data? = nil, in directory: URL = repository) throws -> Started {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        try process.run()
        if let input {
            try stdin.fileHandleForWriting.write(contentsOf: input)
            try stdin.fileHandleForWriting.close()
        }
        // Drain both pipes concurrently so a large output on either cannot block the child.
        return Started(process: process, stdout: PipeDrain(stdout.fileHandleForReading), stderr: PipeDrain(stderr.fileHandleForReading))
    }

    struct Started {
        let process: Process
        fileprivate let stdout: PipeDrain
        fileprivate let stderr: PipeDrain

        func wait() -> Output {
            let out = stdout.wait()
            let err = stderr.wait()
            process.waitUntilExit()
            return Output(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
        }
    }
}

/// Reads a pipe to its end on another thread.
private final class PipeDrain: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let data = Mutex(Data())

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            let read = handle.readDataToEndOfFile()
            data.withLock { $0 = read }
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data.withLock { $0 }
    }
}
