import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP socket on 127.0.0.1 with a port the kernel chose (backlog 16): for the
/// tests' stand-in servers. The caller owns the descriptor and closes it.
public func listenOnLoopback() throws -> (descriptor: Int32, port: Int) {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard socket >= 0, bound, listen(socket, 16) == 0 else {
        if socket >= 0 { close(socket) }
        throw CocoaError(.fileWriteUnknown)
    }
    return (socket, Int(UInt16(bigEndian: address.sin_port)))
}
