import Foundation
import Monitoring
import Testing

@testable import PingStore

/// `StoreReader.registry()` (what `kiothc status` reads) gives what `Registry.load` gives: the
/// same registry from any file the scanner understands, and for anything else the same error,
/// because it hands those files to `Registry.load`.
@Suite("Registry read by the status scanner")
struct RegistryScannerTests {
    enum Outcome: Equatable {
        case registry(Registry)
        case error(String)

        func get() throws -> Registry {
            guard case .registry(let registry) = self else { throw CancellationError() }
            return registry
        }
    }

    /// The outcome of reading `registry.json` both ways: equal registries or equal errors.
    static func outcomes(_ dir: TemporaryDirectory) -> (fast: Outcome, decoder: Outcome) {
        func outcome(_ read: () throws -> Registry) -> Outcome {
            do { return .registry(try read()) } catch { return .error("\(error)") }
        }
        return (outcome { try StoreReader(dir.data).registry() }, outcome { try Registry.load(from: dir.data) })
    }

    static func write(_ text: String, in dir: TemporaryDirectory) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: dir.data.registry))
    }

    @Test("a registry the server wrote, with names that need escaping and retired checks, reads the same, by the scanner")
    func written() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            var registry = try Registry.load(from: dir.data)
            let odd = [
                CheckIdentity(project: "ops", key: "db-backup"), CheckIdentity(project: "ops", key: "quote\"back\\slash/tab\tnl\n"),
                CheckIdentity(project: "données", key: "é😀\u{7F}\u{1}"), CheckIdentity(project: "ops", key: "gone"),
            ]
            _ = try registry.assign(odd)
            try registry.retire(CheckIdentity(project: "ops", key: "gone"), at: 1_733_500_000_123_456)
            let bytes = try #require(try FileSystem.readAll(dir.data.registry))
            #expect(RegistryScanner.parse(bytes, path: dir.data.registry) == registry, "the scanner reads it without help")
            let (fast, decoder) = Self.outcomes(dir)
            #expect(fast == decoder)
            #expect(try fast.get() == registry)
            #expect(try fast.get().path == dir.data.registry)
            #expect(try fast.get().isRetired(registry.retired[0].uuid))
        }
    }

    @Test("hand-written JSON: other spacing, unknown keys, escapes, surrogate pairs")
    func handWritten() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let text = #"""
                {"extra":{"a":[1,-2.5e+3,true,false,null,{"b":"\u00e9"}]},"checks":[{"uuid":"0B0E4A5E-3F2C-4C8E-9A21-5D1F6E7A8B9C","key":"k\/\u00e9\ud83d\ude00","project":"p","note":"x"}],
                "v" : 1 ,	"retired" : [ { "uuid" : "0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9d" , "project" : "p" , "key" : "old" , "retired_us" : -12 } ] }
                """#
            try Self.write(text, in: dir)
            let parsed = try #require(RegistryScanner.parse(Array(text.utf8), path: dir.data.registry))
            #expect(parsed.uuid(for: CheckIdentity(project: "p", key: "k/é😀")) == UUID(uuidString: "0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c"))
            #expect(parsed.retired.map(\.time) == [-12])
            let (fast, decoder) = Self.outcomes(dir)
            #expect(fast == decoder)
            #expect((try? fast.get()) == parsed)
        }
    }

    @Test("no file: an empty registry, as before")
    func missing() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let (fast, decoder) = Self.outcomes(dir)
            #expect(fast == decoder)
            #expect(try fast.get().checks.isEmpty)
        }
    }

    @Test("what the scanner does not take goes to the decoder: the same registry or the same error", arguments: [
        "",
        "{",
        #"{"v":1,"checks":[],"retired":[]"#,
        #"{"v":1,"checks":[],"retired":[]} x"#,
        #"{"v":2,"checks":[],"retired":[]}"#,
        #"{"v":1.0,"checks":[],"retired":[]}"#,
        #"{"v":01,"checks":[],"retired":[]}"#,
        #"{"v":"1","checks":[],"retired":[]}"#,
        #"{"v":1,"checks":[]}"#,
        #"{"v":1,"v":1,"checks":[],"retired":[]}"#,
        #"{"v":1,"checks":[{"project":"p","key":"k","uuid":"not-a-uuid"}],"retired":[]}"#,
        #"{"v":1,"checks":[{"project":"p","key":"k"}],"retired":[]}"#,
        #"{"v":1,"checks":[{"project":"p","project":"q","key":"k","uuid":"0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c"}],"retired":[]}"#,
        #"{"v":1,"checks":[{"project":"p","key":"\ud83d","uuid":"0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c"}],"retired":[]}"#,
        #"{"v":1,"checks":[{"project":"p","key":"a\qb","uuid":"0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c"}],"retired":[]}"#,
        #"{"v":1,"checks":[],"retired":[{"uuid":"0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c","project":"p","key":"k","retired_us":1e3}]}"#,
        #"{"v":1,"checks":[],"retired":[],"deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
    ])
    func refused(_ text: String) async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            try Self.write(text, in: dir)
            #expect(RegistryScanner.parse(Array(text.utf8), path: dir.data.registry) == nil)
            let (fast, decoder) = Self.outcomes(dir)
            #expect(fast == decoder)
        }
    }

    @Test("a file that is not UTF-8 goes to the decoder too")
    func notUTF8() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let bytes = Array(#"{"v":1,"checks":[{"project":"p","key":""#.utf8) + [0xFF, 0xFE] + Array(#"","uuid":"0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c"}],"retired":[]}"#.utf8)
            try Data(bytes).write(to: URL(fileURLWithPath: dir.data.registry))
            #expect(RegistryScanner.parse(bytes, path: dir.data.registry) == nil)
            let (fast, decoder) = Self.outcomes(dir)
            #expect(fast == decoder)
        }
    }
}
