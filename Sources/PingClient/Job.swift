import Dispatch
import Foundation
import Synchronization

/// Runs a job's command with stdin inherited and stdout/stderr passed through, keeping the
/// tail of its output; SIGINT, SIGTERM and SIGHUP sent to `kiothc run` are forwarded to it.
/// The command runs in a process group of its own (Foundation's `Process`), so a command that
/// reads from a terminal stops (SIGTTIN): jobs read from files and pipes.
public enum Job {
    public struct Result: Sendable {
        /// The exit status to report and exit with: the command's own, 128 + N when it was
        /// killed by signal N (as shells do), 127 when it could not be started (`env`, which
        /// starts it, exits 127 when the command is not found and 126 when it cannot run it).
        public var status: Int32
        public var tail: OutputTail
        /// Set when the command could not be started.
        public var launchError: String?
    }

    /// How long output may still arrive after the command exited.
    public static let outputGrace: DispatchTimeInterval = .seconds(2)

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
        do {
            try process.run()
        } catch {
            let message = "kiothc run: cannot run '\(arguments.first ?? "")': \(error.localizedDescription)"
            var result = OutputTail(capacity: tailCapacity)
            result.append(Array(message.utf8))
            return Result(status: 127, tail: result, launchError: message)
        }
        // One thread per pipe, blocking reads until EOF: FileHandle's readabilityHandler was seen
        // to miss the EOF of a short-lived child now and then, which hung the job. read(2), not
        // FileHandle.read(upToCount:), which waits for the whole count: output passes through
        // as it is written.
        for (pipe, destination) in [(out, STDOUT_FILENO), (err, STDERR_FILENO)] {
            drained.enter()
            Thread.detachNewThread {
                let source = pipe.fileHandleForReading.fileDescriptor
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { break }
                    let chunk = buffer[..<count]
                    writeAll(chunk, to: destination)
                    tail.withLock { $0.append(chunk) }
                }
                drained.leave()
            }
        }
        // A reader of our output that goes away (`kiothc run … | head`) must not kill us before
        // the exit-status ping: writes then fail with EPIPE and are dropped. Set after the
        // launch, so the command keeps the default action.
        signal(SIGPIPE, SIG_IGN)
        // The pipes' write ends belong to the child now; closing ours lets EOF arrive.
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        let forwarding = SignalForwarding(to: process.processIdentifier)
        let pid = process.processIdentifier
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            DispatchQueue.global().async {
                let status = waitForExit(of: pid) ?? {
                    // Foundation reaped it first (a quick command): it has the status.
                    process.waitUntilExit()
                    return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
                }()
                // A background process the command left behind may hold its output open for
                // ever; the job is over when the command exits, so its output gets a moment.
                _ = drained.wait(timeout: .now() + outputGrace)
                continuation.resume(returning: status)
            }
        }
        forwarding.stop()
        return Result(status: status, tail: tail.withLock { $0 }, launchError: nil)
    }
}

/// Waits until the child exits, without reaping it (Foundation's `Process` does that), and
/// returns its status as a shell reports it: the exit status, or 128 + N for signal N.
/// Not Process.terminationHandler: Foundation notices the exit only when every descendant has
/// closed a socket the child inherited, so a background process left behind would hold it up.
/// Nil when the child was already reaped.
private func waitForExit(of pid: pid_t) -> Int32? {
    var info = siginfo_t()
    while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 {
        guard errno == EINTR else { return nil }
    }
    let status = info._sifields._sigchld.si_status
    return info.si_code == CLD_EXITED ? status : 128 + status
}

/// Writes all of `bytes` to `descriptor`; gives up silently when it is closed (a job's output
/// is passed through as well as possible, it never stops the job).
private func writeAll(_ bytes: ArraySlice<UInt8>, to descriptor: Int32) {
    var rest = bytes[...]
    while !rest.isEmpty {
        let written = rest.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        rest = rest.dropFirst(written)
    }
}

/// Forwards termination signals to the child's process group while it runs: Foundation starts
/// the child as the leader of a group of its own, so a terminal's Ctrl-C reaches only
/// `kiothc run`, which passes it on to the command and everything it started, once.
final class SignalForwarding {
    private let sources: [DispatchSourceSignal]

    init(to pid: Int32) {
        var sources: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { kill(-pid, number) }
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
