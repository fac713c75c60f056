import Glibc
import Logging
import ServiceLifecycle
import Synchronization

/// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram per state to
/// the Unix socket in `$NOTIFY_SOCKET`, a path or an abstract name written `@name`. `READY=1`
/// once every listener is bound and the configuration is loaded (`Type=notify` units count as
/// started only then), `STOPPING=1` when a graceful shutdown begins, `WATCHDOG=1` every half
/// `$WATCHDOG_USEC` while running (`WatchdogSec=`; only when `$WATCHDOG_PID` is unset or ours).
///
/// Without `$NOTIFY_SOCKET` there is no notifier. A datagram that cannot be sent is logged
/// once, never fatal: the server serves either way, and systemd's own timeouts say the rest.
public final class SystemdNotifier: Sendable {
    /// Where the datagrams go: the bytes of `sun_path` and the address length to pass.
    let address: [UInt8]
    /// Half of `WATCHDOG_USEC`, as sd_watchdog_enabled(3) advises; nil: no watchdog.
    public let watchdogInterval: Duration?
    private let logger: Logger
    private let failureLogged = Atomic(false)

    /// The notifier `environment` asks for; nil without `NOTIFY_SOCKET`, or when it names
    /// something other than a Unix socket path or abstract name (said in the log).
    public init?(environment: [String: String], pid: Int32 = getpid(), logger: Logger) {
        guard let socket = environment["NOTIFY_SOCKET"], !socket.isEmpty else { return nil }
        guard let address = Self.address(socket) else {
            logger.warning(
                "NOTIFY_SOCKET='\(socket)' is not a Unix socket path (/…) or abstract name (@…) of at most 107 bytes; systemd is not told when the server is ready")
            return nil
        }
        self.address = address
        self.logger = logger
        watchdogInterval = Self.watchdogInterval(environment: environment, pid: pid, logger: logger)
    }

    /// `sun_path` for `/path` (NUL-terminated) or `@name` (a leading NUL, no terminator: the
    /// address length says where the name ends).
    static func address(_ socket: String) -> [UInt8]? {
        var bytes = Array(socket.utf8)
        switch bytes.first {
        case UInt8(ascii: "/"):
            bytes.append(0)
        case UInt8(ascii: "@"):
            guard bytes.count > 1 else { return nil }
            bytes[0] = 0
        default:
            return nil
        }
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        return bytes.count <= capacity ? bytes : nil
    }

    static func watchdogInterval(environment: [String: String], pid: Int32, logger: Logger) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], !text.isEmpty else { return nil }
        if let owner = environment["WATCHDOG_PID"], !owner.isEmpty, Int32(owner) != pid {
            // The watchdog is another process's (a parent that exec'd us without resetting it).
            return nil
        }
        guard let microseconds = Int64(text), microseconds > 0 else {
            logger.warning("WATCHDOG_USEC='\(text)' is not a positive number of microseconds; the systemd watchdog is not fed")
            return nil
        }
        return .microseconds(microseconds / 2)
    }

    /// `READY=1` with a status line for `systemctl status`.
    public func ready(status: String) {
        send("READY=1\nSTATUS=\(Self.oneLine(status))")
    }

    public func stopping() {
        send("STOPPING=1\nSTATUS=stopping: finishing in-flight pings, flushing the store")
    }

    func watchdog() {
        send("WATCHDOG=1")
    }

    /// One datagram; a failure is logged the first time only. Never blocks: the socket is
    /// non-blocking, and a full receive queue is a failure like any other.
    @discardableResult
    func send(_ message: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { return failed(message, errno) }
        defer { close(descriptor) }
        var target = sockaddr_un()
        target.sun_family = sa_family_t(AF_UNIX)
        let length = withUnsafeMutableBytes(of: &target.sun_path) { path in
            path.copyBytes(from: address)
            return MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + address.count
        }
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                sendto(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL), address, socklen_t(length))
            }
        }
        guard sent == bytes.count else { return failed(message, sent < 0 ? errno : EMSGSIZE) }
        return true
    }

    private func failed(_ message: String, _ error: Int32) -> Bool {
        if !failureLogged.exchange(true, ordering: .relaxed) {
            let what = message.prefix { $0 != "\n" }
            logger.warning(
                "cannot tell systemd \(what) through NOTIFY_SOCKET: \(String(cString: strerror(error))); the server keeps running (later failures are not logged)")
        }
        return false
    }

    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }

    /// The service feeding the watchdog: first in the service group, so the last to stop (it
    /// keeps feeding while in-flight pings finish and the store flushes).
    public var watchdogService: some Service { SystemdWatchdog(notifier: self) }

    /// The service saying `STOPPING=1`: last in the service group, so the first a graceful
    /// shutdown reaches.
    public var stoppingService: some Service { SystemdStopping(notifier: self) }
}

struct SystemdWatchdog: Service {
    let notifier: SystemdNotifier

    func run() async throws {
        guard let interval = notifier.watchdogInterval else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                notifier.watchdog()
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
            }
        }
    }
}

struct SystemdStopping: Service {
    let notifier: SystemdNotifier

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the group failed, there is no graceful shutdown to announce
        }
        notifier.stopping()
    }
}
