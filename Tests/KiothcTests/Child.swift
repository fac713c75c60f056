import Foundation
import Synchronization
import TestSupport

/// A child process started with its standard output and error captured: both pipes are drained
/// on threads of their own from the start (so a large output cannot block the child), and its
/// exit is awaited on another.
struct Child: Sendable {
    struct Output: Sendable {
        /// The exit status (for a process killed by a signal: the signal's number).
        var status: Int32
        /// Killed by a signal.
        var signalled = false
        var stdout: String
        var stderr: String
    }

    let process: Process
    private let stdout: Background<Data>
    private let stderr: Background<Data>
    let exit: Background<ProcessExit>

    /// Starts `process` (its executable and arguments set); `input` is written to its standard
    /// input, which is then closed (otherwise the child shares the test's).
    init(_ process: Process, input: Data? = nil) throws {
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        try launch(process)
        self.process = process
        let outHandle = out.fileHandleForReading
        let errHandle = err.fileHandleForReading
        stdout = Background { outHandle.readDataToEndOfFile() }
        stderr = Background { errHandle.readDataToEndOfFile() }
        exit = Child.exit(of: process)
        if let input {
            // Written from here: the pipe holds 64 KiB, more than any test's input.
            try stdin.fileHandleForWriting.write(contentsOf: input)
            try stdin.fileHandleForWriting.close()
        }
    }

    /// Its exit status and everything it wrote, once it has exited and closed both pipes.
    func output() async -> Output {
        let ended = await exit.value
        let out = await stdout.value
        let err = await stderr.value
        return Output(
            status: ended.status, signalled: ended.signalled, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    /// Waits, on a thread of its own, for a started process to exit; how it ended.
    static func exit(of process: Process) -> Background<ProcessExit> {
        Background { process.waitForExit() }
    }
}

/// A started process asked to stop (SIGTERM) at most once, without waiting or waiting for it.
final class Termination: Sendable {
    private let process: Process
    let exit: Background<ProcessExit>
    private let requested = Mutex(false)

    init(of process: Process) {
        self.process = process
        exit = Child.exit(of: process)
    }

    /// SIGTERM, once, unless it has exited; returns at once.
    func request() {
        let first = requested.withLock { requested in
            defer { requested = true }
            return !requested
        }
        if first && !exit.isDone { process.terminate() }
    }

    /// SIGTERM (once) and its exit status, once it has exited.
    func stop() async -> Int32 {
        request()
        return await exit.value.status
    }
}
