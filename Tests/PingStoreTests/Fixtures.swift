import Foundation
import Monitoring

let checkA = UUID(uuidString: "11111111-1111-4111-8111-111111111111") ?? UUID()
let checkB = UUID(uuidString: "22222222-2222-4222-8222-222222222222") ?? UUID()
let baseTime: Int64 = 1_732_700_000_000_000

func samplePing(_ n: Int, kind: Ping.Kind = .success, body: String? = nil) -> Ping {
    Ping(n: n, time: baseTime + Int64(n) * 1_000_000, kind: kind, method: "GET", scheme: "http",
         remoteAddress: "127.0.0.1", userAgent: "curl/8.5.0", body: body, bodySize: body?.utf8.count ?? 0)
}
