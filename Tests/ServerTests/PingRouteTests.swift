import Foundation
import Testing
import NIOCore
@testable import Runtime
@testable import Server

@Suite("Ping URLs are parsed as Healthchecks' URL patterns")
struct PingRouteTests {
    static let uuid = "6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01"

    private func parse(_ path: String) -> Result<PingRoute, PingRoute.Failure> {
        PingRoute.parse(Substring(path))
    }

    private func route(_ target: PingRoute.Target, _ action: PingRoute.Action) -> Result<PingRoute, PingRoute.Failure> {
        .success(PingRoute(target: target, action: action))
    }

    @Test("UUID forms: success, trailing slash, start, fail, log, exit status")
    func uuidForms() throws {
        let id = try #require(UUID(uuidString: Self.uuid))
        #expect(parse(Self.uuid) == route(.uuid(id), .success))
        #expect(parse(Self.uuid + "/") == route(.uuid(id), .success))
        #expect(parse(Self.uuid + "/start") == route(.uuid(id), .start))
        #expect(parse(Self.uuid + "/fail") == route(.uuid(id), .fail))
        #expect(parse(Self.uuid + "/log") == route(.uuid(id), .log))
        #expect(parse(Self.uuid + "/0") == route(.uuid(id), .exitStatus(0)))
        #expect(parse(Self.uuid + "/255") == route(.uuid(id), .exitStatus(255)))
        #expect(parse(Self.uuid + "/256") == route(.uuid(id), .exitStatus(256)))
        #expect(parse(Self.uuid + "/99999999999999999999999") == route(.uuid(id), .exitStatus(Int.max)))
    }

    @Test("slug forms, with every suffix")
    func slugForms() {
        #expect(parse("key_1/db-backup") == route(.slug(pingKey: "key_1", slug: "db-backup"), .success))
        #expect(parse("key/db-backup/start") == route(.slug(pingKey: "key", slug: "db-backup"), .start))
        #expect(parse("key/db-backup/fail") == route(.slug(pingKey: "key", slug: "db-backup"), .fail))
        #expect(parse("key/db-backup/log") == route(.slug(pingKey: "key", slug: "db-backup"), .log))
        #expect(parse("key/db-backup/3") == route(.slug(pingKey: "key", slug: "db-backup"), .exitStatus(3)))
        #expect(parse("KeY/db") == route(.slug(pingKey: "KeY", slug: "db"), .success))
    }

    @Test("an upper-case slug is a 400, before any lookup")
    func upperCaseSlug() {
        #expect(parse("key/Db-Backup") == .failure(.invalidFormat))
        #expect(parse("key/DB/fail") == .failure(.invalidFormat))
        #expect(parse(Self.uuid + "/Start") == .failure(.invalidFormat))
    }

    @Test("anything else is a 404: upper-case UUIDs, extra segments, trailing slashes on other forms")
    func notFound() {
        #expect(parse(Self.uuid.uppercased()) == .failure(.notFound))
        #expect(parse(Self.uuid.replacingOccurrences(of: "-", with: "")) == .failure(.notFound))
        #expect(parse("") == .failure(.notFound))
        #expect(parse(Self.uuid + "/start/") == .failure(.notFound))
        #expect(parse(Self.uuid + "/start/x") == .failure(.notFound))
        #expect(parse("key/slug/") == .failure(.notFound))
        #expect(parse("key/slug/unknown") == .failure(.notFound))
        #expect(parse("key/slug/-1") == .failure(.notFound))
        #expect(parse("key//") == .failure(.notFound))
        #expect(parse("key/sl%20ug") == .failure(.notFound))
        #expect(parse("a/b/c/d") == .failure(.notFound))
        #expect(parse("not-a-uuid") == .failure(.notFound))
    }

    @Test("a UUID followed by something that is no suffix is tried as ping key and slug")
    func uuidAsPingKey() {
        #expect(parse(Self.uuid + "/nightly") == route(.slug(pingKey: Substring(Self.uuid), slug: "nightly"), .success))
    }
}

@Suite("Ping bodies keep a UTF-8 prefix cut on a character boundary")
struct PingBodyTests {
    private func body(_ bytes: [UInt8]) -> PingBody {
        var body = PingBody()
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        body.append(buffer)
        return body
    }

    @Test("a short UTF-8 body is kept whole")
    func short() {
        let text = "backup done: 12 GB ✓"
        let kept = body(Array(text.utf8))
        #expect(kept.text == text)
        #expect(kept.size == text.utf8.count)
    }

    @Test("a long body keeps its first 10,000 bytes, never half a character")
    func cut() {
        // 9,999 ASCII bytes then a 3-byte character straddling the limit.
        let text = String(repeating: "a", count: 9_999) + "€" + String(repeating: "b", count: 100)
        let kept = body(Array(text.utf8))
        #expect(kept.text == String(repeating: "a", count: 9_999))
        #expect(kept.size == text.utf8.count)
        let exact = String(repeating: "a", count: 9_997) + "€" + "z"
        #expect(body(Array(exact.utf8)).text == String(repeating: "a", count: 9_997) + "€")
    }

    @Test("a body that is not UTF-8 is not stored, but its size is")
    func binary() {
        let kept = body([0xFF, 0xFE, 0x00, 0x41])
        #expect(kept.text == nil)
        #expect(kept.size == 4)
    }

    @Test("an empty body stores nothing")
    func empty() {
        #expect(body([]).text == nil)
    }

    @Test("bodies arriving in chunks are counted whole and kept up to the limit")
    func chunks() {
        var kept = PingBody()
        for _ in 0..<30 {
            var buffer = ByteBuffer()
            buffer.writeBytes(Array(repeating: UInt8(ascii: "x"), count: 1_000))
            kept.append(buffer)
        }
        #expect(kept.size == 30_000)
        #expect(kept.text?.utf8.count == 10_000)
    }
}
