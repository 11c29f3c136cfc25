// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "berth",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "berth", targets: ["berth"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(
            name: "CGit2", pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]),
        .target(name: "BerthYAML", dependencies: ["CYAML"], swiftSettings: strict),
        .target(name: "BerthCore", dependencies: ["BerthYAML"], swiftSettings: strict),
        .target(name: "BerthGit", dependencies: ["CGit2"], swiftSettings: strict),
        // Linux epoll for the balancer's data plane (header-only, nothing to link).
        .systemLibrary(name: "CEpoll"),
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        // zlib, for the web UI's gzip-compressed pages.
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // Berth's one HTTP/1.1 server and client, and its one health prober, on NIO: shared by
        // the Docker client, the engine's API and the balancer (BerthCore does no I/O).
        .target(
            name: "BerthNet",
            dependencies: [
                "BerthCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .target(
            name: "BerthEngine",
            dependencies: [
                "BerthCore", "BerthGit", "BerthNet", "CSQLite", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .target(
            name: "BerthTestSupport", dependencies: ["BerthCore", "BerthGit"],
            swiftSettings: strict),
        .target(
            name: "BerthDocker",
            dependencies: [
                "BerthCore", "BerthNet",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(
            name: "BerthProxy",
            dependencies: [
                "BerthCore", "BerthNet", "CEpoll",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "berth",
            dependencies: [
                "BerthCore", "BerthYAML", "BerthGit", "BerthEngine", "BerthDocker", "BerthProxy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "berth-bench",
            dependencies: ["BerthCore", "BerthYAML", "BerthGit", "CYAML", "BerthProxy", "BerthDocker", "BerthTestSupport",
                "BerthEngine", "BerthNet",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(name: "BerthYAMLTests", dependencies: ["BerthYAML"], swiftSettings: strict),
        .testTarget(
            name: "BerthDockerTests",
            dependencies: [
                "BerthDocker", "BerthCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "BerthCoreTests", dependencies: ["BerthCore", "BerthYAML", "BerthTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "BerthGitTests", dependencies: ["BerthGit", "BerthCore", "BerthEngine", "BerthTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "BerthEngineTests",
            dependencies: ["BerthEngine", "BerthCore", "BerthGit", "BerthNet", "BerthTestSupport",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOHTTP1", package: "swift-nio")],
            swiftSettings: strict),
        .testTarget(
            name: "BerthProxyTests",
            dependencies: [
                "BerthProxy", "BerthDocker", "BerthCore", "BerthNet", "BerthTestSupport", "berth",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "BerthIntegrationTests",
            dependencies: ["berth", "BerthCore", "BerthDocker", "BerthGit", "BerthTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "BerthSwarmTests",
            dependencies: ["berth", "BerthCore", "BerthDocker", "BerthGit", "BerthTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "BerthCLITests", dependencies: ["BerthTestSupport", "berth", "BerthCore"],
            exclude: ["Golden"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
