import NIOHTTP1
import Testing

@testable import Runtime
@testable import Server

@Suite("Connection persistence (RFC 9112 §9.3)")
struct ConnectionPersistenceTests {
    @Test(
        "whether the connection persists after the answer, by version and Connection fields",
        arguments: [
            (HTTPVersion.http1_1, [String](), true),
            (.http1_1, ["close"], false),
            (.http1_1, ["Close"], false),
            (.http1_1, ["keep-alive, close"], false),
            (.http1_1, ["Keep-Alive,CLOSE"], false),
            (.http1_1, ["keep-alive", "close"], false),
            (.http1_1, [" , upgrade ,\tclose\t"], false),
            (.http1_1, ["keep-alive"], true),
            (.http1_1, ["closed"], true),
            (.http1_1, ["upgrade"], true),
            (.http1_1, [""], true),
            (.http1_0, [], false),
            (.http1_0, ["keep-alive"], true),
            (.http1_0, ["Keep-Alive"], true),
            (.http1_0, ["KEEP-ALIVE , foo"], true),
            (.http1_0, ["keep-alive, close"], false),
            (.http1_0, ["close, keep-alive"], false),
            (.http1_0, ["keep-alived"], false),
            (.http1_0, ["keep"], false),
        ])
    func persists(version: HTTPVersion, connection: [String], expected: Bool) {
        var headers = HTTPHeaders([("Host", "x")])
        for value in connection { headers.add(name: "Connection", value: value) }
        #expect(ConnectionPersistence.persists(version, headers) == expected)
    }

    @Test("only Connection fields count, whatever the case of their name")
    func fieldName() {
        #expect(ConnectionPersistence.options(HTTPHeaders([("CONNECTION", "close")])).close)
        #expect(!ConnectionPersistence.options(HTTPHeaders([("X-Connection", "close"), ("Proxy-Connection", "close")])).close)
        #expect(ConnectionPersistence.options(HTTPHeaders([("connection", "keep-alive")])) == .init(close: false, keepAlive: true))
    }
}
