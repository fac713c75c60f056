#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// One server per data directory (SPEC §10): `serve` holds an exclusive flock(2) on
/// `serve.lock` for as long as it runs. Two writers on one directory interleaved their ping
/// numbers and journals; the second `serve` now stops before it writes anything.
///
/// The kernel drops a flock when the last descriptor of it closes, which happens however the
/// process ends (kill -9 included), so a lock file left behind never blocks a restart: the
/// file's existence means nothing, only the lock on it does. The pid written into it is for the
/// message a second server prints. Readers (`status`, `pings`, `plan`) never take it.
public final class DataDirectoryLock: Sendable {
    public static let fileName = "serve.lock"

    /// Why the lock could not be taken.
    public enum Failure: Error, Sendable {
        /// Another process holds it; `pid` is what that process wrote into the file (nil when it
        /// has not written it yet, or the file was edited).
        case held(directory: String, path: String, pid: Int32?)
        /// The directory or the lock file could not be created or opened.
        case io(StoreError)
    }

    /// The descriptor holding the lock; -1 once released.
    private let descriptor: Mutex<Int32>

    private init(descriptor: Int32) {
        self.descriptor = Mutex(descriptor)
    }

    /// Creates the data directory if missing (only the directory itself, as the store does), then
    /// takes the lock without waiting and writes this process's pid into the file.
    public static func acquire(_ data: DataDirectory) throws(Failure) -> DataDirectoryLock {
        let path = data.lock
        let file: RawFile
        do {
            try FileSystem.makeDirectory(data.path)
            // O_CLOEXEC (RawFile's default): a child process (an alert command, a test's
            // helper) must not inherit the descriptor and keep the lock after the server died.
            file = try RawFile.open(path, O_RDWR | O_CREAT, mode: 0o644)
        } catch {
            throw .io(error as? StoreError ?? StoreError(.invalid, operation: "open", path: path, detail: "\(error)"))
        }
        var result: Int32
        repeat { result = flock(file.fd, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
        if result != 0 {
            let code = errno
            defer { file.close() }
            guard code == EWOULDBLOCK else { throw .io(StoreError.system(code, "flock", path)) }
            throw .held(directory: data.path, path: path, pid: Self.pid(in: file))
        }
        // The lock is ours even if this fails; only the pid a second server prints is missing.
        try? file.truncate(to: 0)
        try? file.write(Array("\(getpid())\n".utf8), at: 0)
        return DataDirectoryLock(descriptor: file.fd)
    }

    /// The pid the holder wrote, if the file holds one.
    private static func pid(in file: RawFile) -> Int32? {
        guard let bytes = try? file.read(at: 0, count: 32) else { return nil }
        let line = bytes.prefix { $0 != 0x0A }
        return Int32(String(decoding: line, as: UTF8.self)).flatMap { $0 > 0 ? $0 : nil }
    }

    /// Lets the next server in; the file stays (it means nothing without the lock).
    public func release() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            _ = close(fd)
            fd = -1
        }
    }

    deinit { release() }
}

extension DataDirectoryLock.Failure: CustomStringConvertible {
    /// What is wrong and what to do, for the operator.
    public var description: String {
        switch self {
        case .held(let directory, let path, let pid):
            let holder = pid.map { "kiothc serve (pid \($0))" } ?? "kiothc serve (its pid is not in the file yet)"
            return "the data directory '\(directory)' is in use by another \(holder), which holds the lock on '\(path)'; "
                + "two servers on one data directory would corrupt it. Stop that server first, or give this one another --data"
        case .io(let error):
            return "\(error)"
        }
    }
}
