import Dispatch
import Foundation
import Synchronization

/// Runs a job's command with stdin inherited and stdout/stderr passed through, keeping the
/// tail of its output; SIGINT, SIGTERM and SIGHUP sent to `kiothc run` are forwarded to it.
public enum Job {
    public struct Result: Sendable {
        /// The exit status to report and exit with: the command's own, 128 + N when it was
        /// killed by signal N (as shells do), 127 when it could not be started.
        public var status: Int32
        public var tail: OutputTail
        /// Set when the command could not be started.
        public var launchError: String?
    }

    public static func run(_ arguments: [String], tailCapacity: Int) async -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let tail = Mutex(OutputTail(capacity: tailCapacity))
        let drained = DispatchGroup()
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            let message = "kiothc run: cannot run '\(arguments.first ?? "")': \(error.localizedDescription)"
            var result = OutputTail(capacity: tailCapacity)
            result.append(Array(message.utf8))
            return Result(status: 127, tail: result, launchError: message)
        }
        // One thread per pipe, blocking reads until EOF: FileHandle's readabilityHandler was seen
        // to miss the EOF of a short-lived child now and then, which hung the job.
        for (pipe, destination) in [(out, FileHandle.standardOutput), (err, FileHandle.standardError)] {
            drained.enter()
            Thread.detachNewThread {
                let handle = pipe.fileHandleForReading
                while let chunk = try? handle.read(upToCount: 65_536), !chunk.isEmpty {
                    destination.write(chunk)
                    tail.withLock { $0.append(chunk) }
                }
                drained.leave()
            }
        }
        // The pipes' write ends belong to the child now; closing ours lets EOF arrive.
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        let forwarding = SignalForwarding(to: process.processIdentifier)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                exited.wait()
                drained.wait()
                continuation.resume()
            }
        }
        forwarding.stop()
        // `env` exits 127 when the command is not found, 126 when it cannot be executed.
        let status: Int32 = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Result(status: status, tail: tail.withLock { $0 }, launchError: nil)
    }
}

/// Forwards termination signals to the child while it runs.
final class SignalForwarding {
    private let sources: [DispatchSourceSignal]

    init(to pid: Int32) {
        var sources: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { kill(pid, number) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func stop() {
        for source in sources { source.cancel() }
        for number in [SIGINT, SIGTERM, SIGHUP] { signal(number, SIG_DFL) }
    }
}
