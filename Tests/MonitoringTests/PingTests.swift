import Testing

@testable import Monitoring

@Suite("Ping")
struct PingTests {
    @Test("a user agent longer than 200 characters is cut to 200")
    func userAgentCut() {
        let long = String(repeating: "é", count: 250)
        let ping = Ping(n: 1, time: 0, kind: .success, method: "GET", scheme: "http", remoteAddress: "",
                        userAgent: long, body: nil, bodySize: 0)
        #expect(ping.userAgent.unicodeScalars.count == 200)
        #expect(Ping.truncatedUserAgent("curl/8.5") == "curl/8.5")
    }
}
