#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starting a command with posix_spawn, in a process group of its own, with an empty signal
/// mask and every signal at its default action; for `kiothc run` (the job) and alert commands.
///
/// Not Foundation's `Process`: it passes on the spawning thread's signal mask, and the threads
/// of Swift's cooperative pool (Dispatch workers) block nearly every signal. A command started
/// from one began with SIGTERM, SIGINT and SIGHUP blocked: `kiothc run -- sleep 60` forwarded
/// SIGTERM to a `sleep` that held it pending and exited 0 a minute later (a shell resets its
/// mask, which is why `sh -c '…'` jobs were killed as they should be). Our own ignored signals
/// (SIGPIPE, the forwarded ones) must not be inherited either.
public enum ChildProcess {
    /// What a standard stream of the child is.
    public enum Stream: Sendable {
        /// Ours, shared.
        case inherit
        case devNull
        /// A descriptor of ours, duplicated onto the stream (a pipe's write end).
        case descriptor(Int32)
    }

    public struct SpawnError: Error, Sendable, CustomStringConvertible {
        public let code: Int32
        public var description: String { String(cString: strerror(code)) }
    }

    /// Starts `path` with `arguments` (the first is its name); `environment` nil passes ours on.
    public static func spawn(
        _ path: String, arguments: [String], environment: [String: String]?, stdin: Stream, stdout: Stream, stderr: Stream
    ) -> Result<pid_t, SpawnError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stream {
            case .inherit: break
            case .devNull: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .descriptor(let descriptor): posix_spawn_file_actions_adddup2(&actions, descriptor, target)
            }
        }
        // Nothing else of ours: a descriptor without close-on-exec (a library's socket, a pipe
        // our own parent gave us) would be held by the command and whatever it leaves behind,
        // e.g. keep the output of `kiothc run` open after it exited.
        _ = closeFrom?(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let variables: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            argv.forEach { free($0) }
            variables?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let code =
            if let variables {
                posix_spawn(&pid, path, &actions, &attributes, argv, variables)
            } else {
                posix_spawn(&pid, path, &actions, &attributes, argv, environ)
            }
        return code == 0 ? .success(pid) : .failure(SpawnError(code: code))
    }

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), which Swift's Glibc module does
    /// not export (it is a GNU extension); nil on an older libc, which then passes them on.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
}
