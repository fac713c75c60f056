import BlockingWork
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Forwards SIGINT, SIGTERM and SIGHUP to the job's process group: the command runs as the
/// leader of a group of its own, so a terminal's Ctrl-C reaches only `kiothc run`, which passes
/// it on to the command and everything it started, once.
///
/// The handlers are installed before the command is started, and a signal caught before its
/// process id is known is remembered and delivered right after the start: a SIGTERM between
/// the two used to end `kiothc run` and leave the command running, unwatched. A plain signal
/// handler, not a Dispatch signal source: a source is armed asynchronously, and the signal had
/// to be ignored (SIG_IGN) meanwhile, so one arriving in between was lost. The handler only
/// touches two atomics and calls kill(2), both async-signal-safe.
enum SignalForwarding {
    static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// From now on the forwarded signals are caught (idempotent).
    ///
    /// A thread of our own waits for them unblocked: the cooperative pool's threads block
    /// nearly every signal, and a parent may have started us with them blocked (Foundation's
    /// `Process` passes its thread's mask on; so do the tests): with no thread accepting the
    /// signal, it would stay pending and never be forwarded. A signal that was pending already
    /// reaches the handler as soon as that thread unblocks it.
    static func install() {
        guard !installed.exchange(true, ordering: .sequentiallyConsistent) else { return }
        // The atomics are initialized here, not in the handler.
        _ = forwardingTarget.load(ordering: .sequentiallyConsistent)
        _ = caughtSignals.load(ordering: .sequentiallyConsistent)
        var set = sigset_t()
        sigemptyset(&set)
        for number in forwarded {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = catchSignal
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
            sigaddset(&set, number)
        }
        let accepted = set
        startThread(named: "kiothc-signals") {
            var unblock = accepted
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
            while true { pause() }
        }
    }

    /// The command runs as `pid`, leader of its process group: deliver what was caught so far,
    /// and forward from now on.
    static func forward(to pid: pid_t) {
        forwardingTarget.store(pid, ordering: .sequentiallyConsistent)
        deliverCaught()
    }

    /// The command exited (not yet reaped): stop forwarding, and let the signals end
    /// `kiothc run` again, as before the job.
    static func stop() {
        forwardingTarget.store(0, ordering: .sequentiallyConsistent)
        for number in forwarded { signal(number, SIG_DFL) }
    }

    private static let installed = Atomic(false)
}

/// The job's process group, once started; 0 before and after.
private let forwardingTarget = Atomic<Int32>(0)
/// Bit N set: signal N was caught and not yet delivered.
private let caughtSignals = Atomic<UInt64>(0)

private func catchSignal(_ number: Int32) {
    caughtSignals.bitwiseOr(1 << UInt64(number), ordering: .sequentiallyConsistent)
    deliverCaught()
}

/// Called by the handler and by `forward(to:)`, in either order: the exchange hands each caught
/// signal to exactly one of them. No allocation here (the handler runs it).
private func deliverCaught() {
    let pid = forwardingTarget.load(ordering: .sequentiallyConsistent)
    guard pid > 0 else { return }
    let caught = caughtSignals.exchange(0, ordering: .sequentiallyConsistent)
    if caught & (1 << UInt64(SIGINT)) != 0 { kill(-pid, SIGINT) }
    if caught & (1 << UInt64(SIGTERM)) != 0 { kill(-pid, SIGTERM) }
    if caught & (1 << UInt64(SIGHUP)) != 0 { kill(-pid, SIGHUP) }
}
