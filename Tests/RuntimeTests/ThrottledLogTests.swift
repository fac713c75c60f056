import Testing

@testable import Runtime

@Suite("Throttled log")
struct ThrottledLogTests {
    @Test("the first failure is logged, the next ones within the interval are counted, then one line says how many")
    func throttles() {
        let log = ThrottledLog(interval: .seconds(10))
        let start = ContinuousClock.now
        #expect(log.admit(at: start) == 0)
        #expect(log.admit(at: start + .seconds(1)) == nil)
        #expect(log.admit(at: start + .seconds(9)) == nil)
        #expect(log.admit(at: start + .seconds(10)) == 2)
        #expect(log.admit(at: start + .seconds(11)) == nil)
        #expect(log.admit(at: start + .seconds(60)) == 1)
    }
}
