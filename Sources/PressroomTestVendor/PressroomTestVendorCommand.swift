import ArgumentParser
import FlyingFox
import FlyingSocks
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `pressroom-test-vendor`: a strict print vendor over real HTTP for
/// Pressroom's tests and benchmarks. It speaks four dialects (generic
/// Idempotency-Key, Prodigi v4, Printful v1, Gelato v4), issues OAuth2
/// client-credentials tokens, downloads and checksums every asset it is
/// given (loopback hosts only), dedupes per its dialect's rules, and lets
/// tests inject faults per account through `/_control`. State lives in
/// memory. See docs/test-vendor.md.
@main
struct PressroomTestVendorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pressroom-test-vendor",
        abstract: "A strict test print vendor (generic, prodigi, printful, gelato dialects) on loopback."
    )

    @Option(help: "Address to listen on: a loopback address (127.0.0.1, ::1 or localhost).")
    var host = "127.0.0.1"

    @Option(help: "TCP port; 0 picks a free one (printed on stdout).")
    var port: UInt16 = 7399

    @Option(help: "trace, debug, info, notice, warning, error or critical. Request lines are info.")
    var logLevel: String = "info"

    @Option(help: "Largest asset download accepted, in bytes.")
    var maxAssetBytes: Int = 512 << 20

    @Option(help: "Time limit for one asset download, in seconds.")
    var assetTimeout: Int = 60

    @Option(help: "Asset downloads that may run at once.")
    var downloadConnections: Int = 32

    @Flag(help: "Exit when standard input closes (a test process that started this server died).")
    var exitOnStdinClose = false

    func validate() throws {
        guard ["127.0.0.1", "::1", "localhost"].contains(host) else {
            throw ValidationError("--host must be a loopback address (127.0.0.1, ::1 or localhost): the test vendor has no real security")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard maxAssetBytes > 0, assetTimeout > 0, downloadConnections > 0 else {
            throw ValidationError("--max-asset-bytes, --asset-timeout and --download-connections must be positive")
        }
    }

    func run() async throws {
        if exitOnStdinClose { Self.exitWhenStdinCloses() }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        var logger = Logger(label: "pressroom-test-vendor") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        logger.logLevel = level
        let services = VendorServices(
            store: VendorStore(),
            assets: try AssetFetcher(options: .init(
                maxBytes: maxAssetBytes, timeout: .seconds(assetTimeout), connections: downloadConnections)),
            connections: ConnectionWatch())
        let address: any SocketAddress = host == "::1"
            ? try sockaddr_in6.inet6(ip6: "::1", port: port)
            : try sockaddr_in.inet(ip4: "127.0.0.1", port: port)
        // The handler timeout must outlast the longest hold or delay a fault may ask for.
        let server = HTTPServer(
            config: HTTPServer.Configuration(
                address: address, timeout: TimeInterval(Fault.maxWaitMilliseconds / 1000 * 2 + 60),
                pool: NoDelaySocketPool(base: HTTPServer.defaultPool()),
                logger: QuietFlyingFoxLogger(logger: logger)),
            handler: VendorHandler(services: services, logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            try await server.waitUntilListening(timeout: 10)
            let bound: UInt16 = switch await server.listeningAddress {
            case .ip4(_, let port)?, .ip6(_, let port)?: port
            default: port
            }
            services.connections.listeningPort.withLock { $0 = bound }
            let shown = host == "::1" ? "[::1]" : "127.0.0.1"
            // Unbuffered: scripts and tests wait for this line.
            FileHandle.standardOutput.write(Data("pressroom-test-vendor listening on http://\(shown):\(bound)\n".utf8))
            logger.notice("listening", metadata: ["url": "http://\(shown):\(bound)"])
            try await group.next()
        }
    }

    /// A thread of its own blocks in `read(0)`: end of input ends the process.
    private static func exitWhenStdinCloses() {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 256)
            while read(0, &buffer, buffer.count) > 0 {}
            Glibc.exit(0)
        }
        thread.name = "stdin-watch"
        thread.start()
    }
}
