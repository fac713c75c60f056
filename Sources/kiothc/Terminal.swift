import Foundation
import Synchronization

/// The CLI's edge to standard output and error.
enum Terminal {
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Ends the process with `status` at once, without freeing what the command built: the
    /// kernel takes a fleet's catalog back in an instant, where releasing its million checks
    /// one by one takes a second. Only for commands whose output is written in full.
    static func finish(status: Int32) -> Never {
        exit(status)
    }

    static func error(_ message: String) { say("error", message) }

    static func warning(_ message: String) { say("warning", message) }

    static func note(_ message: String) { say("note", message) }

    /// `kiothc: <severity>: <message>` on standard error.
    private static func say(_ severity: String, _ message: String) {
        FileHandle.standardError.write(Data("kiothc: \(severity): \(message)\n".utf8))
    }

    /// Colour only on a terminal, and never when NO_COLOR is set (no-color.org).
    static var stdoutIsColourTerminal: Bool {
        isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }
}

/// True the first time only: the ping URLs are printed once, not once per listener.
final class PrintedOnce: Sendable {
    private let done = Mutex(false)

    func first() -> Bool {
        done.withLock { done in
            defer { done = true }
            return !done
        }
    }
}
