// swift-tools-version:6.2
import PackageDescription

/// Targets are split by concern: the C libraries sit behind `C*` targets, each
/// library target knows only its own domain, and only `PressroomDaemon` wires
/// queue, imaging, colour and storage together.
let package = Package(
    name: "pressroom",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pressroom", targets: ["pressroom"]),
        /// The strict test vendor the fulfilment tests and benchmark run against.
        .executable(name: "pressroom-test-vendor", targets: ["PressroomTestVendor"]),
        .library(name: "PressroomQueue", targets: ["PressroomQueue"]),
        .library(name: "PressroomImaging", targets: ["PressroomImaging"]),
        .library(name: "PressroomStorage", targets: ["PressroomStorage"]),
        .library(name: "PressroomHTTP", targets: ["PressroomHTTP"]),
        .library(name: "PressroomFulfillment", targets: ["PressroomFulfillment"]),
        .library(name: "PressroomScan", targets: ["PressroomScan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/swhitty/FlyingFox.git", from: "0.27.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
    ],
    targets: [
        // MARK: C libraries
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CVips",
            pkgConfig: "vips",
            providers: [.apt(["libvips-dev"])]
        ),
        .systemLibrary(
            name: "CLcms2",
            pkgConfig: "lcms2",
            providers: [.apt(["liblcms2-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        /// zlib's CRC-32 (the part checksum boto3 sends; libcurl links zlib anyway).
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Fixed-arity wrappers for variadic C APIs Swift cannot call.
        .target(name: "CVipsShims", dependencies: ["CVips"]),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),

        // MARK: Libraries
        /// Small pieces shared by the library targets (a thread pool for blocking C calls).
        .target(name: "PressroomSupport"),
        .target(
            name: "PressroomQueue",
            dependencies: [
                "CHiredis",
                "PressroomSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "PressroomColor",
            dependencies: ["CLcms2"]
        ),
        .target(
            name: "PressroomImaging",
            dependencies: [
                "CVipsShims",
                "PressroomSupport",
                "PressroomColor",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        /// HTTP client over libcurl (S3 and vendor APIs): blocking calls on
        /// its own threads, no redirects, http(s) only.
        .target(
            name: "PressroomHTTP",
            dependencies: [
                "CCurlShims",
                "PressroomSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "PressroomStorage",
            dependencies: [
                "CZlib",
                "PressroomHTTP",
                "PressroomSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        /// Print vendors: config model, routing, circuit breaker, adapters,
        /// order state in Redis (Lua), webhooks, reconciliation. Knows no
        /// storage or imaging: the daemon hands it presigned asset URLs.
        .target(
            name: "PressroomFulfillment",
            dependencies: [
                "PressroomHTTP",
                "PressroomQueue",
                "PressroomSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        /// clamd client (INSTREAM over TCP or a unix socket): malware scanning
        /// of uploads before anything decodes them.
        .target(name: "PressroomScan", dependencies: ["PressroomSupport"]),
        /// Admin HTTP port (metrics, health, readiness) and the systemd notify protocol.
        .target(
            name: "PressroomAdmin",
            dependencies: [
                "PressroomSupport",
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        /// The operator console on the admin port: server-rendered pages
        /// (swift-mustache) over the queue's and the orders' Redis state.
        .target(
            name: "PressroomConsole",
            dependencies: [
                "PressroomAdmin",
                "PressroomQueue",
                "PressroomFulfillment",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        .target(
            name: "PressroomDaemon",
            dependencies: [
                "PressroomAdmin",
                "PressroomConsole",
                "PressroomQueue",
                "PressroomImaging",
                "PressroomStorage",
                "PressroomFulfillment",
                "PressroomScan",
                "PressroomSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "pressroom",
            dependencies: [
                "PressroomDaemon",
                "PressroomStorage",
                "PressroomImaging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        /// A strict print vendor over real HTTP (four dialects, faults, asset
        /// checks) for tests and benchmarks; see docs/test-vendor.md.
        .executableTarget(
            name: "PressroomTestVendor",
            dependencies: [
                "PressroomHTTP",
                "PressroomSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Benchmarks (bench/*/run prints figures; not tests)
        .executableTarget(
            name: "QueueBench",
            dependencies: ["PressroomQueue", "PressroomAdmin", "PressroomSupport", .product(name: "Logging", package: "swift-log")],
            path: "bench/queue/Sources"
        ),
        /// Throughput benchmark run by `bench/storage` (release build).
        .executableTarget(
            name: "StorageBench",
            dependencies: ["PressroomStorage", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            path: "bench/StorageBench"
        ),
        /// Tickets/s through a worker beside plain libcurl calls, for bench/fulfill.
        .executableTarget(
            name: "FulfillBench",
            dependencies: ["PressroomFulfillment", "PressroomHTTP", "PressroomQueue", "PressroomStorage", .product(name: "Logging", package: "swift-log")],
            path: "bench/fulfill/Sources"
        ),
        /// Scan throughput (clamd INSTREAM) and sweep speed for bench/intake (release build).
        .executableTarget(
            name: "IntakeBench",
            dependencies: ["PressroomScan", "PressroomDaemon", "PressroomStorage", "PressroomQueue", .product(name: "Logging", package: "swift-log")],
            path: "bench/IntakeBench"
        ),
        /// Times derive/render for bench/imaging (release build).
        .executableTarget(
            name: "PressroomImagingBench",
            dependencies: ["PressroomImaging", .product(name: "Logging", package: "swift-log")]
        ),

        // MARK: Tests
        .testTarget(name: "PressroomQueueTests", dependencies: ["PressroomQueue"]),
        .testTarget(
            name: "PressroomImagingTests",
            dependencies: ["PressroomImaging", "PressroomColor", .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "PressroomStorageTests",
            dependencies: [
                "PressroomStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "PressroomAdminTests",
            dependencies: [
                "PressroomAdmin",
                "PressroomSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(name: "PressroomDaemonTests", dependencies: [
            "PressroomDaemon", "PressroomImaging", "PressroomQueue", "PressroomStorage", "PressroomScan", "PressroomAdmin", "PressroomFulfillment", "PressroomHTTP",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "PressroomScanTests", dependencies: ["PressroomScan"]),
        /// Console pages over HTTP against real redis-server, and in headless Chromium over WebDriver.
        .testTarget(name: "PressroomConsoleTests", dependencies: [
            "PressroomConsole", "PressroomAdmin", "PressroomQueue", "PressroomFulfillment", "PressroomHTTP",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(
            name: "PressroomFulfillmentTests",
            dependencies: [
                "PressroomFulfillment",
                "PressroomQueue",
                "PressroomHTTP",
                "PressroomStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        /// Runs the real `pressroom-test-vendor` binary and checks its contract over HTTP.
        .testTarget(
            name: "PressroomTestVendorTests",
            dependencies: [
                "PressroomHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
