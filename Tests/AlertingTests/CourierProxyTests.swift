import CheckCatalog
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import Alerting

/// A stand-in HTTP proxy on 127.0.0.1: records the head of each request it receives (the
/// request line a client sends a proxy: an absolute URL, or CONNECT host:port) and answers
/// `answer` without going anywhere.
final class RecordingProxy: Sendable {
    let heads = Mutex<[String]>([])
    let answer: String

    init(answer: String) { self.answer = answer }

    func run<T: Sendable>(_ body: @Sendable (_ port: Int) async throws -> T) async throws -> T {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.pipeline.addHandler(Handler(proxy: self)) }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        let result: Result<T, any Error>
        do { result = .success(try await body(port)) } catch { result = .failure(error) }
        try? await channel.close().get()
        return try result.get()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let proxy: RecordingProxy
        var received = ""

        init(proxy: RecordingProxy) { self.proxy = proxy }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            received += buffer.readString(length: buffer.readableBytes) ?? ""
            guard let end = received.range(of: "\r\n\r\n") else { return }
            let head = String(received[..<end.lowerBound])
            received = ""
            proxy.heads.withLock { $0.append(head) }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: proxy.answer)), promise: nil)
        }
    }
}

@Suite("Courier: HTTPS_PROXY, HTTP_PROXY and NO_PROXY")
struct CourierProxyTests {
    @Test("an http:// webhook goes through HTTP_PROXY (upper case too): a tunnel to the host, then the request in it")
    func httpThroughProxy() async throws {
        // The same answer to the CONNECT (tunnel open) and to the request sent through it.
        let proxy = RecordingProxy(answer: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        let attempt = try await proxy.run { port in
            let courier = Courier(timeout: .seconds(5), environment: ["HTTP_PROXY": "http://127.0.0.1:\(port)"])
            return await courier.deliver(sampleAlert(), via: webhook("http://hooks.example.invalid/hook/$SLUG"), at: 0)
        }
        #expect(attempt.outcome == .delivered, "\(attempt.error ?? "")")
        #expect(attempt.statusCode == 200)
        let heads = proxy.heads.withLock { $0 }
        #expect(heads.count == 2, "\(heads)")
        #expect(heads.first?.hasPrefix("CONNECT hooks.example.invalid:80 HTTP/1.1") == true, "\(heads)")
        #expect(heads.last?.hasPrefix("POST /hook/db-backup-co HTTP/1.1") == true, "\(heads)")
    }

    @Test("an https:// webhook opens a tunnel through HTTPS_PROXY; a proxy that refuses is a failed attempt naming it")
    func httpsThroughProxy() async throws {
        let proxy = RecordingProxy(answer: "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        let attempt = try await proxy.run { port in
            let courier = Courier(timeout: .seconds(5), environment: ["HTTPS_PROXY": "127.0.0.1:\(port)"])
            return await courier.deliver(sampleAlert(), via: webhook("https://hooks.example.invalid/T0/B0?token=s3cret"), at: 0)
        }
        let heads = proxy.heads.withLock { $0 }
        #expect(heads.first?.hasPrefix("CONNECT hooks.example.invalid:443 HTTP/1.1") == true, "\(heads)")
        #expect(attempt.outcome == .failed)
        let error = attempt.error ?? ""
        #expect(error.hasPrefix("the proxy refused to open a connection to the receiver (through the proxy 127.0.0.1 port"), "\(error)")
        #expect(error.contains("(HTTPS_PROXY))"), "\(error)")
        #expect(!error.contains("s3cret"))
    }

    @Test("a host NO_PROXY lists is reached directly; a proxy variable that is not a proxy URL fails the attempt saying so")
    func bypassAndUnusable() async throws {
        let receiver = Receiver()
        let direct = try await receiver.run { base in
            // The proxy's port is closed: only a direct request can be delivered.
            let courier = Courier(timeout: .seconds(5), environment: ["HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "localhost,127.0.0.1"])
            return await courier.deliver(sampleAlert(), via: webhook("\(base)/hook"), at: 0)
        }
        #expect(direct.outcome == .delivered, "\(direct.error ?? "")")
        #expect(receiver.requests.map(\.uri) == ["/hook"])
        let courier = Courier(timeout: .seconds(5), environment: ["HTTPS_PROXY": "ftp://proxy.example:21"])
        let unusable = await courier.deliver(sampleAlert(), via: webhook("https://hooks.example.invalid/x"), at: 0)
        #expect(unusable.outcome == .failed)
        #expect(unusable.error == "the proxy in HTTPS_PROXY is a ftp:// proxy; kiothc supports http:// and socks5:// proxies")
    }
}
