import BlockingWork
import ChildProcess
import Dispatch
import Foundation
import Synchronization

/// Runs a job's command with stdin inherited and stdout/stderr passed through, keeping the
/// tail of its output; SIGINT, SIGTERM and SIGHUP sent to `kiothc run` are forwarded to it.
/// The command runs in a process group of its own, with an empty signal mask and default
/// signal actions (`ChildProcess`), so a command that reads from a terminal stops (SIGTTIN):
/// jobs read from files and pipes.
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

    /// Catches SIGINT, SIGTERM and SIGHUP from now on, to forward them to the command once it
    /// runs (see `SignalForwarding`). Call it first: a signal before it ends `kiothc run`.
    public static func catchSignals() {
        SignalForwarding.install()
    }

    public static func run(_ arguments: [String], tailCapacity: Int) async -> Result {
        SignalForwarding.install()
        // A reader of our output that goes away (`kiothc run … | head`) must not kill us before
        // the exit-status ping: writes then fail with EPIPE and are dropped. The command starts
        // with default signal actions all the same.
        signal(SIGPIPE, SIG_IGN)
        let tail = Mutex(OutputTail(capacity: tailCapacity))
        guard let out = OutputPipe.make(), let err = OutputPipe.make() else {
            return Result.notStarted(arguments, "no pipe for its output: \(String(cString: strerror(errno)))", tailCapacity: tailCapacity)
        }
        let spawned = ChildProcess.spawn(
            "/usr/bin/env", arguments: ["/usr/bin/env"] + arguments, environment: nil, stdin: .inherit, stdout: .descriptor(out.write),
            stderr: .descriptor(err.write))
        // The write ends belong to the child now; closing ours lets EOF arrive.
        close(out.write)
        close(err.write)
        let pid: pid_t
        switch spawned {
        case .success(let started): pid = started
        case .failure(let error):
            close(out.read)
            close(err.read)
            SignalForwarding.stop()
            return Result.notStarted(arguments, error.description, tailCapacity: tailCapacity)
        }
        // Signals caught since `catchSignals` are delivered now.
        SignalForwarding.forward(to: pid)
        let drained = DispatchGroup()
        // One thread per pipe, blocking reads until EOF. read(2), not FileHandle.read(upToCount:),
        // which waits for the whole count: output passes through as it is written.
        for (source, destination, name) in [(out.read, STDOUT_FILENO, "kiothc-job-out"), (err.read, STDERR_FILENO, "kiothc-job-err")] {
            drained.enter()
            startThread(named: name) {
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { break }
                    let chunk = buffer[..<count]
                    writeAll(chunk, to: destination)
                    tail.withLock { $0.append(chunk) }
                }
                close(source)
                drained.leave()
            }
        }
        // Waited for on a thread of its own: waitid and the output's grace block.
        let status = await blocking(named: "kiothc-job-wait") {
            let status = waitForExit(of: pid)
            // A background process the command left behind may hold its output open for
            // ever; the job is over when the command exits, so its output gets a moment.
            _ = drained.wait(timeout: .now() + outputGrace)
            return status
        }
        return Result(status: status, tail: tail.withLock { $0 }, launchError: nil)
    }
}

extension Job.Result {
    static func notStarted(_ arguments: [String], _ reason: String, tailCapacity: Int) -> Job.Result {
        let message = "kiothc run: cannot run '\(arguments.first ?? "")': \(reason)"
        var tail = OutputTail(capacity: tailCapacity)
        tail.append(Array(message.utf8))
        return Job.Result(status: 127, tail: tail, launchError: message)
    }
}

/// A pipe's two descriptors, both close-on-exec (the child gets its end by dup2). `kiothc run`
/// starts no other process meanwhile, so setting the flag after pipe(2) leaks nothing.
private struct OutputPipe {
    let read: Int32
    let write: Int32

    static func make() -> OutputPipe? {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { return nil }
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        return OutputPipe(read: descriptors[0], write: descriptors[1])
    }
}

/// Waits until the child exits and returns its status as a shell reports it: the exit status,
/// or 128 + N for signal N. Forwarding stops before the child is reaped: until then its
/// process group id cannot be reused, so a late signal never reaches a stranger.
/// Not a wait for the output's end: a background process the command left behind may hold it.
private func waitForExit(of pid: pid_t) -> Int32 {
    var info = siginfo_t()
    while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
    SignalForwarding.stop()
    var raw: Int32 = 0
    while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
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
