import Foundation
import Synchronization

/// Blocking work (waiting for a process, reading a pipe to its end, a blocking socket call) run
/// on a thread of its own, whose result a test awaits.
///
/// Swift Testing runs the tests of every suite in parallel on Swift's cooperative pool, which
/// has one thread per core (two on a small CI machine). A test that blocks a pool thread while a
/// child process runs starves the other suites: their timers, retries and deadlines then fire
/// late. So the end-to-end helpers never block a pool thread: each wait happens here, and the
/// awaiting test is suspended, not parked on a thread.
final class Background<Value: Sendable>: Sendable {
    private enum State {
        case running([@Sendable (Value) -> Void])
        case done(Value)
    }

    private let state = Mutex(State.running([]))

    /// Starts `work` now, on a new thread.
    init(_ work: @escaping @Sendable () -> Value) {
        Thread.detachNewThread { [self] in
            let value = work()
            let waiting = state.withLock { state -> [@Sendable (Value) -> Void] in
                guard case .running(let waiting) = state else { return [] }
                state = .done(value)
                return waiting
            }
            for action in waiting { action(value) }
        }
    }

    /// Runs `action` with the result once the work is done: at once if it is, otherwise on the
    /// work's thread when it finishes.
    func then(_ action: @escaping @Sendable (Value) -> Void) {
        let done = state.withLock { state -> Value? in
            switch state {
            case .running(let waiting):
                state = .running(waiting + [action])
                return nil
            case .done(let value):
                return value
            }
        }
        if let done { action(done) }
    }

    /// The result; suspends the caller (not its thread) until the work is done.
    var value: Value {
        get async { await withCheckedContinuation { continuation in then { continuation.resume(returning: $0) } } }
    }

    /// Whether the work has finished.
    var isDone: Bool {
        state.withLock { if case .done = $0 { true } else { false } }
    }
}

/// A child process started with its standard output and error captured: both pipes are drained
/// on threads of their own from the start (so a large output cannot block the child), and its
/// exit is awaited on another.
struct Child: Sendable {
    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let process: Process
    private let stdout: Background<Data>
    private let stderr: Background<Data>
    /// The exit status (for a process killed by a signal: the signal's number).
    let exit: Background<Int32>

    /// Starts `process` (its executable and arguments set); `input` is written to its standard
    /// input, which is then closed (otherwise the child shares the test's).
    init(_ process: Process, input: Data? = nil) throws {
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        try process.run()
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
        let status = await exit.value
        let out = await stdout.value
        let err = await stderr.value
        return Output(status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    /// Waits, on a thread of its own, for a started process to exit; its exit status.
    static func exit(of process: Process) -> Background<Int32> {
        Background {
            process.waitUntilExit()
            return process.terminationStatus
        }
    }
}

/// A started process asked to stop (SIGTERM) at most once, without waiting or waiting for it.
final class Termination: Sendable {
    private let process: Process
    let exit: Background<Int32>
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
        return await exit.value
    }
}
