// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "KiotHealthChecks",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kiothc", targets: ["kiothc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .target(name: "CheckCatalog", dependencies: ["YAMLParser", "Monitoring"]),
        // JSON-lines ping store: group commit, recovery, registry of UUIDs. Foundation + Glibc.
        .target(name: "PingStore", dependencies: ["Monitoring"]),
        .executableTarget(
            name: "kiothc",
            dependencies: [
                "CheckCatalog",
                "Monitoring",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "YAMLParserTests", dependencies: ["YAMLParser"]),
        .testTarget(name: "MonitoringTests", dependencies: ["Monitoring"]),
        .testTarget(name: "CheckCatalogTests", dependencies: ["CheckCatalog", "Monitoring"], exclude: ["Fixtures"]),
        .testTarget(name: "KiothcTests", dependencies: ["kiothc"]),
        .testTarget(name: "PingStoreTests", dependencies: ["PingStore", "Monitoring"]),
    ]
)
