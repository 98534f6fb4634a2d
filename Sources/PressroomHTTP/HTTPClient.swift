import Foundation
import PressroomSupport
import Synchronization

/// An HTTP/1.1 client over libcurl: a fixed set of reusable easy handles,
/// each used by one thread of a ``BlockingThreadPool`` at a time, so blocking
/// `curl_easy_perform` calls stay off Swift's cooperative pool and
/// connections are kept alive between requests.
///
/// Redirects are never followed (a server cannot send us to a host that
/// configuration did not name), and only `http` and `https` URLs are allowed.
public final class HTTPClient: Sendable {
    public struct Options: Sendable, Equatable {
        public var connectTimeoutMilliseconds: Int = 10_000
        /// A transfer slower than this many bytes per second...
        public var lowSpeedLimitBytesPerSecond: Int = 1024
        /// ...for this many seconds is aborted as stalled.
        public var lowSpeedTimeSeconds: Int = 30
        /// Concurrent requests (threads and easy handles).
        public var connections: Int = 8
        /// Name of the pool's threads, for stack traces and `top -H`.
        public var name: String = "pressroom-curl"

        public init(connectTimeoutMilliseconds: Int = 10_000, lowSpeedLimitBytesPerSecond: Int = 1024, lowSpeedTimeSeconds: Int = 30,
                    connections: Int = 8, name: String = "pressroom-curl") {
            self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
            self.lowSpeedLimitBytesPerSecond = lowSpeedLimitBytesPerSecond
            self.lowSpeedTimeSeconds = lowSpeedTimeSeconds
            self.connections = connections
            self.name = name
        }
    }

    public let options: Options
    private let pool: BlockingThreadPool
    /// Idle handles. `Mutex` guards the array; a handle is only touched by
    /// the thread that took it out.
    private let idle: Mutex<[UnsafeTransfer<CurlEasyHandle>]>

    public init(options: Options = Options()) throws {
        self.options = options
        let count = max(1, options.connections)
        var handles: [UnsafeTransfer<CurlEasyHandle>] = []
        for _ in 0..<count { handles.append(UnsafeTransfer(try CurlEasyHandle())) }
        self.idle = Mutex(handles)
        self.pool = BlockingThreadPool(name: options.name, threads: count)
    }

    deinit {
        pool.shutdown()
    }

    /// Runs one exchange. Any HTTP status is a response; only a failure to
    /// get one throws ``HTTPClientError``.
    ///
    /// The client is its own in-flight limit: a request waits in the pool's
    /// FIFO queue until one of its `connections` threads is free, and a thread
    /// that finishes one request takes the next at once, without waiting for
    /// the caller's task to run again. `onStart` is called on that thread as it
    /// takes the request (to time the wait for a connection).
    public func perform(_ request: HTTPRequest, onStart: (@Sendable () -> Void)? = nil) async throws -> HTTPResponse {
        let options = self.options
        return try await pool.run { [self] in
            onStart?()
            // As many handles as threads: a running job always finds one.
            let handle = self.idle.withLock { $0.popLast() }!
            defer { self.idle.withLock { $0.append(handle) } }
            return try handle.value.perform(request, options: options)
        }
    }
}

/// Moves a non-Sendable value between threads where the code guarantees
/// exclusive use (a curl handle is only used by the thread that checked it out).
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
