// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "KiotHealthChecks",
    // Linux only (inotify, /proc, flock; Glibc is imported unguarded): no other platform is declared.
    products: [
        .executable(name: "kiothc", targets: ["kiothc"]),
        // The baseline of the ping benchmark (scripts/bench/run.sh): a bare route answering "OK".
        .executable(name: "kiothc-bare-route", targets: ["BareRoute"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Already in the graph through swift-nio-extras and swift-certificates; for SHA-1.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // The PostgreSQL store of several instances (SPEC §11).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // libyaml, through pkg-config; Debian: apt-get install libyaml-dev
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
        ),
        // The only code that touches libyaml: bytes -> positioned node tree.
        .target(name: "YAMLParser", dependencies: ["CYAML"]),
        // The domain, pure: slugs, schedules, checks, status. No I/O.
        .target(name: "Monitoring"),
        // Config files -> validated, immutable catalog + diagnostics.
        .target(name: "CheckCatalog", dependencies: ["BlockingWork", "YAMLParser", "Monitoring"]),
        // The one way blocking work leaves Swift's cooperative pool: a named thread of its own;
        // and a fleet's work spread over every core (`inParts`, `parallelMap`). Foundation only.
        .target(name: "BlockingWork"),
        // JSON-lines ping store: group commit, recovery, registry of UUIDs. Foundation + Glibc.
        .target(name: "PingStore", dependencies: ["BlockingWork", "Monitoring"]),
        // The proxy a URL is reached through, from the environment (HTTPS_PROXY, NO_PROXY, …),
        // and connection failures told for people: for `kiothc run`/`pause` and for alerts.
        .target(
            name: "HTTPProxy",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // posix_spawn with a clean signal mask, for alert commands and `kiothc run`'s job.
        .target(name: "ChildProcess"),
        // Channels, placeholders, the persisted outbox and delivery (webhook, command).
        .target(
            name: "Alerting",
            dependencies: [
                "BlockingWork",
                "CheckCatalog",
                "ChildProcess",
                "HTTPProxy",
                "Monitoring",
                "SMTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The store of several instances on one PostgreSQL (SPEC §11): schema and migrations,
        // pings, flips and check state decided under row locks with group commit, identity,
        // the alert queue claimed with SKIP LOCKED, state changes between instances (NOTIFY).
        .target(
            name: "PostgresStore",
            dependencies: [
                "Alerting",
                "Monitoring",
                "PingStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // What runs behind the HTTP surface, without HTTP: the serving catalog and its reloads,
        // check states, the ping recorder, deadlines, pause, alert delivery's wiring, and the
        // reports `kiothc status` and `pings` print.
        .target(
            name: "Runtime",
            dependencies: [
                "Alerting",
                "BlockingWork",
                "CheckCatalog",
                "Monitoring",
                "PingStore",
                "PostgresStore",
                // `kiothc plan --format github` finds a check's `name:` line (CheckFieldLocator).
                "YAMLParser",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // HTTP only: listeners and TLS, the ping channel, the API, the dashboard, /metrics and
        // the probes, composed over a `Runtime`. Only `kiothc serve` imports it.
        .target(
            name: "Server",
            dependencies: [
                "Alerting",
                "BlockingWork",
                "CheckCatalog",
                "Monitoring",
                "PingStore",
                "PostgresStore",
                "Runtime",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // What `kiothc run` needs: ping URLs, the output tail, pinging with retries; the HTTP
        // client of the commands that talk to a server (run, pause, resume).
        .target(
            name: "PingClient",
            dependencies: [
                "BlockingWork",
                "ChildProcess",
                "HTTPProxy",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // A small SMTP client (RFC 5321: STARTTLS, AUTH PLAIN/LOGIN, timeouts on every step) and
        // the mail it sends (RFC 5322, MIME): the transport of `kind: email`. Nothing of ours.
        .target(
            name: "SMTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "kiothc",
            dependencies: [
                "CheckCatalog",
                "Monitoring",
                "PingStore",
                "PostgresStore",
                "Runtime",
                "Server",
                "PingClient",
                "Alerting",
                "SMTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "BareRoute",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Benchmarks/BareRoute"
        ),
        // What tests share: Background and onOwnThread, for work that must not hold a thread of
        // the cooperative pool the parallel tests run on.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "YAMLParserTests", dependencies: ["YAMLParser", "TestSupport"]),
        .testTarget(name: "MonitoringTests", dependencies: ["Monitoring", "TestSupport"]),
        .testTarget(name: "BlockingWorkTests", dependencies: ["BlockingWork"]),
        .testTarget(name: "CheckCatalogTests", dependencies: ["CheckCatalog", "Monitoring", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "KiothcTests", dependencies: ["kiothc", "TestSupport"]),
        .testTarget(
            name: "AlertingTests",
            dependencies: [
                "Alerting",
                "CheckCatalog",
                "Monitoring",
                "SMTP",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PingClientTests",
            dependencies: [
                "HTTPProxy",
                "PingClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "SMTPTests",
            dependencies: [
                "SMTP",
                "TestSupport",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(name: "PingStoreTests", dependencies: ["PingStore", "Monitoring", "TestSupport"]),
        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "TestSupport",
                "Runtime",
                "Alerting",
                "CheckCatalog",
                "Monitoring",
                "PingStore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "TestSupport",
                "Runtime",
                "Server",
                "Alerting",
                "CheckCatalog",
                "Monitoring",
                "PingStore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)

// libFuzzer harnesses (scripts/fuzz/run.sh, docs/reliability.md). Declared only when
// KIOTHC_FUZZ=1, so `swift build` and `swift test` never compile them: they link only with
// -sanitize=fuzzer (their main calls libFuzzer's driver) and `@testable import` the libraries,
// which a plain release build does not allow. The script builds them in .build-fuzz or
// .build-fuzz-fast.
if Context.environment["KIOTHC_FUZZ"] == "1" {
    package.targets += [
        .executableTarget(name: "FuzzYAML", dependencies: ["CheckCatalog", "Monitoring", "YAMLParser"], path: "Fuzz/FuzzYAML"),
        .executableTarget(
            name: "FuzzRoute",
            dependencies: [
                "Runtime",
                "Server",
                "CheckCatalog",
                "PingStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Fuzz/FuzzRoute"
        ),
    ]
    package.products += [
        .executable(name: "FuzzYAML", targets: ["FuzzYAML"]),
        .executable(name: "FuzzRoute", targets: ["FuzzRoute"]),
    ]
}
