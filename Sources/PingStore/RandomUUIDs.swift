import Foundation
import Glibc

/// Random (version 4) UUIDs drawn from the kernel in bulk, one read of /dev/urandom per 4,096.
/// Foundation's `UUID()` opens and reads /dev/urandom for each one: a twentieth of a
/// million-check first start went to opening that file.
struct RandomUUIDs {
    private var pool: [UInt8] = []
    private var used = 0

    /// How many UUIDs' worth of randomness one refill fetches.
    static let batch = 4096

    mutating func next() -> UUID {
        if used + 16 > pool.count { refill() }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { out in
            pool.withUnsafeBytes { out.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[used..<(used + 16)])) }
            out[6] = (out[6] & 0x0F) | 0x40  // version 4
            out[8] = (out[8] & 0x3F) | 0x80  // RFC 4122 variant
        }
        used += 16
        return UUID(uuid: value)
    }

    private mutating func refill() {
        pool = [UInt8](repeating: 0, count: 16 * Self.batch)
        used = 0
        var filled = 0
        let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            pool.withUnsafeMutableBytes { buffer in
                while filled < buffer.count {
                    let got = read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
                    if got > 0 {
                        filled += got
                    } else if got == 0 || errno != EINTR {
                        break
                    }
                }
            }
            close(descriptor)
        }
        if filled < pool.count {
            // No /dev/urandom (a bare chroot): the system generator, one call per 8 bytes.
            var generator = SystemRandomNumberGenerator()
            for index in filled..<pool.count { pool[index] = generator.next() }
        }
    }
}
