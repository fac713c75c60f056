import Alerting
import Foundation
import Monitoring
import PingStore
import Testing

@testable import Runtime

@Suite("File store")
struct FileStoreTests {
    @Test("trimming drops the queued alerts the outbox took, keeps numbering, and a reopen sends nothing twice")
    func trim() async throws {
        let subject = FileStoreUnderTest()
        defer { subject.remove() }
        let store = try #require(try subject.open() as? FileStore)
        let queued = store.data.queuedAlerts
        for i in 1...3 {
            let time = contractT0 + Int64(i) * 1_000_000
            try await store.record(Flip(time: time, old: .up, new: .down, reason: .timeout), of: contractCheck, alerts: [contractAlert("hook", .down, flipTime: time)])
        }
        func lines() throws -> [Substring] { try String(contentsOfFile: queued, encoding: .utf8).split(separator: "\n") }
        #expect(try lines().count == 3)
        try await store.trimQueuedAlerts()
        #expect(try lines().count == 1, "only the last line stays, for the numbering")
        // One alert of a check and channel at a time, oldest first: deliver all three.
        var delivered = 0
        while let alert = await store.alerts.claimDue(at: contractT0 + 10_000_000).first {
            _ = try await store.alerts.complete(alert.id, with: Attempt(time: contractT0 + 10_000_000, outcome: .delivered, statusCode: 200))
            delivered += 1
        }
        #expect(delivered == 3)
        let time = contractT0 + 20_000_000
        try await store.record(Flip(time: time, old: .down, new: .up, reason: .ping), of: contractCheck, alerts: [contractAlert("hook", .up, flipTime: time)])
        #expect(try lines().count == 2)
        #expect(try lines().last?.contains(#""n":4"#) == true, "numbering goes on after a trim")
        try store.close()
        let reopened = try subject.open()
        let due = await reopened.alerts.claimDue(at: time)
        #expect(due.map(\.direction) == [.up], "the delivered alerts are not taken again; the new one is pending once")
        try await reopened.close()
    }
}
