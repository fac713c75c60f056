import HummingbirdCore
import Logging
import NIOCore
import Runtime
import Synchronization

/// One plain HTTP/1 connection as `OpenConnections` sees it: its channel, and since when it has
/// been waiting for a request head (0 while a request is being answered). The connection's
/// event loop writes the mark, the listener's reads it when it sheds.
final class ConnectionActivity: Sendable {
    let channel: any Channel
    private let idleSince: Atomic<UInt64>

    init(channel: any Channel) {
        self.channel = channel
        self.idleSince = Atomic(NIODeadline.now().uptimeNanoseconds)
    }

    /// A request head arrived: not to be shed until it is answered.
    func busy() {
        idleSince.store(0, ordering: .relaxed)
    }

    /// Every request is answered; the connection waits for the next head.
    func idle() {
        idleSince.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
    }

    /// Since when it has waited for a head, nil while a request is answered.
    var waitingSince: UInt64? {
        let since = idleSince.load(ordering: .relaxed)
        return since == 0 ? nil : since
    }
}

/// The plain HTTP/1 connections of one listener, so that at `--max-connections` the ones
/// waiting longest for a request head (idle keep-alive, silent, or a head that never ends) are
/// closed to make room, instead of new clients waiting in the kernel's backlog behind them.
final class OpenConnections: Sendable {
    private let connections = Mutex<[ObjectIdentifier: ConnectionActivity]>([:])

    /// Tracks `channel` until it closes; the caller marks its activity.
    func add(_ channel: any Channel) -> ConnectionActivity {
        let activity = ConnectionActivity(channel: channel)
        let key = ObjectIdentifier(activity)
        connections.withLock { $0[key] = activity }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.connections.withLock { $0.removeValue(forKey: key) }
        }
        return activity
    }

    /// Closes up to `limit` connections, those waiting longest for a request head first;
    /// returns how many. Connections answering a request are left alone.
    @discardableResult
    func shed(_ limit: Int) -> Int {
        // Sorted outside the lock, which every connection's open and close takes. A request head
        // arriving meanwhile may still see its connection closed, as any client of an idle
        // keep-alive connection must expect (RFC 9112 §9.3.1).
        let all = connections.withLock { Array($0.values) }
        let oldest = all.compactMap { activity in activity.waitingSince.map { (since: $0, activity: activity) } }
            .sorted { $0.since < $1.since }.prefix(limit).map(\.activity)
        connections.withLock { connections in
            for activity in oldest { connections.removeValue(forKey: ObjectIdentifier(activity)) }
        }
        for activity in oldest {
            activity.channel.close(promise: nil)
        }
        return oldest.count
    }
}

/// `--max-connections` for a listener: at the limit, connections waiting for a request head are
/// shed (a batch, oldest first) so that accepting goes on; only when every connection is
/// answering a request does the listener stop accepting until one closes (Hummingbird's
/// `MaximumAvailableConnections`). HTTPS listeners shed nothing: their connections are bounded
/// by the TLS handshake and first-head deadlines and the idle timeout.
struct ConnectionShedding: AvailableConnectionsDelegate {
    let limit: Int
    let connections: OpenConnections?
    let log: ThrottledLog
    let logger: Logger
    private var count = 0

    init(limit: Int, connections: OpenConnections?, logger: Logger) {
        self.limit = limit
        self.connections = connections
        self.log = ThrottledLog(interval: .seconds(60))
        self.logger = logger
    }

    mutating func connectionOpened() {
        count += 1
        guard count >= limit, let connections else { return }
        // A batch per scan: the scan reads every connection, and under a flood each accept
        // past the limit would otherwise pay for one.
        let shed = connections.shed(max(1, limit / 16))
        if let skipped = log.admit() {
            let outcome =
                shed > 0
                ? "closed the \(shed) waiting longest for a request head to make room"
                : "every one is answering a request; new clients wait until one closes"
            logger.warning(
                "\(limit) connections open, the --max-connections limit: \(outcome)", metadata: ["sheddings_since_last_line": "\(skipped)"])
        }
    }

    mutating func connectionClosed() {
        count -= 1
    }

    func isAcceptingNewConnections() -> Bool {
        count < limit
    }
}
