import CheckCatalog
import Foundation
import Logging

/// Sends what the alert queue holds (the file store's outbox): due alerts go out (several at
/// once), each attempt is recorded, failures are retried with the queue's backoff. Woken when
/// alerts are queued; otherwise it sleeps until the next retry is due.
public final class AlertDispatcher: Sendable {
    let queue: any AlertQueue
    let courier: Courier
    /// The channel as configured now (nil when it was removed), so a reload's new URL is used.
    let channel: @Sendable (_ project: String, _ name: String) -> Channel?
    let deliver: @Sendable (Alert, Channel, Int64) async -> Attempt
    let logger: Logger
    public let wakeup = Wakeup()
    /// Alerts tried at once.
    static let concurrency = 8

    public init(
        queue: any AlertQueue, courier: Courier, channel: @escaping @Sendable (String, String) -> Channel?, logger: Logger,
        deliver: (@Sendable (Alert, Channel, Int64) async -> Attempt)? = nil
    ) {
        self.queue = queue
        self.courier = courier
        self.channel = channel
        self.logger = logger
        self.deliver = deliver ?? { alert, channel, now in await courier.deliver(alert, via: channel, at: now) }
    }

    /// Sends every alert due at `now` and waits for the attempts; returns when the next one is
    /// due. Tests call this directly instead of `run`.
    @discardableResult
    public func tick(at now: Int64) async -> Int64? {
        let due = await queue.claimDue(at: now)
        if !due.isEmpty {
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for alert in due {
                    if running >= Self.concurrency {
                        await group.next()
                        running -= 1
                    }
                    group.addTask { await self.attempt(alert, at: now) }
                    running += 1
                }
            }
        }
        return await queue.nextDue()
    }

    private func attempt(_ alert: Alert, at now: Int64) async {
        let attempt: Attempt
        if let channel = channel(alert.project, alert.channel) {
            attempt = await deliver(alert, channel, now)
        } else {
            attempt = Attempt(time: now, outcome: .failed, error: "channel '\(alert.channel)' of project '\(alert.project)' is no longer configured")
        }
        var metadata: Logger.Metadata = [
            "check.uuid": "\(alert.check.uuidString.lowercased())", "channel": "\(alert.project)/\(alert.channel)",
            "direction": "\(alert.direction.rawValue)", "alert.id": "\(alert.id.uuidString.lowercased())",
        ]
        if let code = attempt.statusCode { metadata["status_code"] = "\(code)" }
        if let code = attempt.exitStatus { metadata["exit_status"] = "\(code)" }
        if let reply = attempt.reply { metadata["smtp_reply"] = "\(reply)" }
        do {
            switch try await queue.complete(alert.id, with: attempt) {
            case .delivered:
                logger.info(alert.test ? "test notification delivered" : "alert delivered", metadata: metadata)
            case .retry(let next):
                metadata["retry_in_s"] = "\((next - now) / 1_000_000)"
                logger.warning("alert not delivered, will retry: \(attempt.error ?? "failed")", metadata: metadata)
            case .gaveUp where alert.test:
                logger.warning("test notification not delivered: \(attempt.error ?? "failed")", metadata: metadata)
            case .gaveUp where attempt.permanent:
                logger.error("alert not delivered, giving up: refused for good, a retry would be refused too: \(attempt.error ?? "failed")", metadata: metadata)
            case .gaveUp:
                logger.error("alert not delivered, giving up after its last retry: \(attempt.error ?? "failed")", metadata: metadata)
            }
        } catch {
            // Not recorded: the alert stays in flight-free pending state in memory and will be
            // tried again; on a restart, the file says it is still pending.
            await queue.release(alert.id)
            logger.error("cannot record an alert attempt in the outbox: \(error)", metadata: metadata)
        }
    }

    /// Until cancelled: send what is due, sleep until the next retry or a new alert.
    public func run(now: @escaping @Sendable () -> Int64) async {
        while !Task.isCancelled {
            let current = now()
            let next = await tick(at: current)
            let wait = min(next.map { max(0, $0 - current) } ?? 3_600_000_000, queue.pollInterval ?? .max)
            if wait == 0 { continue }
            await wakeup.wait(upTo: .microseconds(wait))
        }
    }
}
