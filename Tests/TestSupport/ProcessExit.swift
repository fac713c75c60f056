import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
public struct ProcessExit: Sendable, Equatable {
    /// The exit status, or the number of the signal that killed it.
    public var status: Int32
    /// Killed by a signal (`status` is the signal's number).
    public var signalled: Bool

    public init(status: Int32, signalled: Bool) {
        self.status = status
        self.signalled = signalled
    }
}

extension Process {
    /// Blocks until the started process exits, without reaping it (Foundation does) and without
    /// spinning: run it on a thread of its own (`Background`).
    ///
    /// Not `waitUntilExit()`: on Linux, called off the main thread, it runs an empty run loop in
    /// a loop and keeps a core busy until the process exits (2.5 s of CPU for a 3 s `sleep`).
    /// With a server per e2e test and a `curl` per request, those loops took most of the two
    /// cores, and under a sanitizer the servers and the tests' own tasks ran seconds late.
    public func waitForExit() -> ProcessExit {
        var info = siginfo_t()
        while waitid(P_PID, id_t(processIdentifier), &info, WEXITED | WNOWAIT) != 0 {
            if errno == EINTR { continue }
            // Foundation reaped it already, so it knows how it ended (and does not spin long).
            waitUntilExit()
            return ProcessExit(status: terminationStatus, signalled: terminationReason == .uncaughtSignal)
        }
        return ProcessExit(status: info._sifields._sigchld.si_status, signalled: info.si_code != CLD_EXITED)
    }
}
