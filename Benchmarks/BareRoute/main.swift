// The baseline of the ping benchmark (SPEC §9, scripts/bench/run.sh): a bare Hummingbird 2
// route answering "OK" to GET, HEAD and POST on any path, served with the same HTTP/1.1
// server configuration as `kiothc serve` (idle timeout, reuseAddress), built in the same
// mode. It reads and discards a request body, as a ping does, and prints the same
// "serving pings at URL" line so the benchmark starts both servers alike.
//
//   kiothc-bare-route [HOST:PORT]        default 127.0.0.1:0 (an ephemeral port)
import Foundation
import Hummingbird

let argument = CommandLine.arguments.dropFirst().first ?? "127.0.0.1:0"
guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]) else {
    FileHandle.standardError.write(Data("usage: kiothc-bare-route [HOST:PORT]\n".utf8))
    exit(64)
}
let host = String(argument[..<colon])

let router = Router()
for method in [HTTPRequest.Method.get, .head, .post] {
    router.on("**", method: method) { request, _ -> String in
        for try await _ in request.body {}
        return "OK"
    }
}
let app = Application(
    router: router,
    server: .http1(configuration: .init(idleTimeout: .seconds(60))),
    configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "kiothc-bare-route", reuseAddress: true),
    onServerRunning: { channel in
        let url = "http://\(host):\(channel.localAddress?.port ?? port)"
        FileHandle.standardError.write(Data("serving pings at \(url)\n".utf8))
    }
)
try await app.runService()
