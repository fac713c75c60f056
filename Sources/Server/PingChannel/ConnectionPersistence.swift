import NIOHTTP1
import Runtime

/// Whether an HTTP/1.x connection persists after an answer (RFC 9112 §9.3): not if the
/// `Connection` field holds the `close` option; else yes for HTTP/1.1, and for HTTP/1.0 only
/// with the `keep-alive` option. `Connection` is a comma-separated list of case-insensitive
/// tokens and may be repeated, so `Close` and `keep-alive, close` both close.
///
/// NIO's own reading (llhttp's) lets `keep-alive` win over `close` in an HTTP/1.0 request, and
/// Hummingbird closes only on a field exactly `close`; both are read here instead. Read once
/// per request head, without allocating.
enum ConnectionPersistence {
    struct Options: Equatable {
        var close = false
        var keepAlive = false
    }

    static func persists(_ version: HTTPVersion, _ headers: HTTPHeaders) -> Bool {
        let options = options(headers)
        if options.close { return false }
        if version.major == 1 && version.minor == 0 { return options.keepAlive }
        return version.major >= 1
    }

    /// The `close` and `keep-alive` options of every `Connection` field in `headers`.
    static func options(_ headers: HTTPHeaders) -> Options {
        var options = Options()
        for (name, value) in headers where equalsIgnoringCase(name.utf8, "connection".utf8) {
            forEachToken(value) { token in
                if equalsIgnoringCase(token, "close".utf8) {
                    options.close = true
                } else if equalsIgnoringCase(token, "keep-alive".utf8) {
                    options.keepAlive = true
                }
            }
        }
        return options
    }

    /// Calls `body` with each comma-separated token of `value`, without the spaces and tabs
    /// around it; empty list elements are skipped (RFC 9110 §5.6.1).
    private static func forEachToken(_ value: String, _ body: (Substring.UTF8View) -> Void) {
        let whitespace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        var rest = Substring(value).utf8
        while !rest.isEmpty {
            let comma = rest.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
            var token = rest[rest.startIndex..<comma]
            while let first = token.first, whitespace(first) { token = token.dropFirst() }
            while let last = token.last, whitespace(last) { token = token.dropLast() }
            if !token.isEmpty { body(token) }
            rest = comma == rest.endIndex ? rest[comma...] : rest[rest.index(after: comma)...]
        }
    }

    private static func equalsIgnoringCase<A: Collection<UInt8>>(_ text: A, _ lowercase: String.UTF8View) -> Bool {
        guard text.count == lowercase.count else { return false }
        return zip(text, lowercase).allSatisfy { byte, expected in
            let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
            return lowered == expected
        }
    }
}
