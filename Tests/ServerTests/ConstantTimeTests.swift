import Testing

@testable import Runtime
@testable import Server

/// API keys and the admin token are compared without an early exit (SPEC §10): the result is
/// right for every kind of difference, and every byte of the expected key is looked at.
@Suite("Constant-time key comparison")
struct ConstantTimeTests {
    let key = Array("0123456789abcdef0123456789abcdef".utf8)

    @Test("equal keys match; a difference anywhere, a prefix, a longer key or an empty one do not")
    func results() {
        #expect(ConstantTime.equal(key, key))
        for index in key.indices {
            var other = key
            other[index] ^= 0x01
            #expect(!ConstantTime.equal(other, key), "a difference at byte \(index) must not match")
        }
        #expect(!ConstantTime.equal(key.dropLast(), key))
        #expect(!ConstantTime.equal(key + [0x30], key))
        #expect(!ConstantTime.equal([], key))
        #expect(!ConstantTime.equal(key, []))
        // A key that equals the expected one padded with NULs must not match either.
        #expect(!ConstantTime.equal(Array(key.prefix(10)), Array(key.prefix(10)) + [0]))
    }

    @Test("the admin token compares through the same function")
    func adminToken() {
        let token = AdminToken("tRIIdFaSjzSkfHD1EIY9AEU_ZGvYyuOi1BOSpyAfZF3")
        #expect(token.matches("tRIIdFaSjzSkfHD1EIY9AEU_ZGvYyuOi1BOSpyAfZF3"))
        #expect(!token.matches("tRIIdFaSjzSkfHD1EIY9AEU_ZGvYyuOi1BOSpyAfZF4"))
        #expect(!token.matches("tRIIdFaSjzSkfHD1EIY9AEU_ZGvYyuOi1BOSpyAfZF"))
        #expect(token.authorizes("Bearer tRIIdFaSjzSkfHD1EIY9AEU_ZGvYyuOi1BOSpyAfZF3"))
        #expect(!token.authorizes("tRIIdFaSjzSkfHD1EIY9AEU_ZGvYyuOi1BOSpyAfZF3"))
    }

    @Test("the time does not depend on where the first difference is")
    func timing() {
        // Medians of many rounds, first byte vs last byte different: an early-exit comparison
        // is tens of times faster on the first; this one takes the same work for both.
        let long = Array(repeating: UInt8(ascii: "k"), count: 1024)
        var first = long
        first[0] = 0
        var last = long
        last[long.count - 1] = 0
        func median(_ given: [UInt8]) -> Double {
            var samples: [Double] = []
            for _ in 0..<21 {
                let start = ContinuousClock.now
                for _ in 0..<10 { _ = ConstantTime.equal(given, long) }
                let elapsed = ContinuousClock.now - start
                samples.append(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
            }
            return samples.sorted()[samples.count / 2]
        }
        let ratio = median(first) / median(last)
        #expect(ratio > 0.5 && ratio < 2, "first-byte / last-byte difference time ratio \(ratio)")
    }
}
