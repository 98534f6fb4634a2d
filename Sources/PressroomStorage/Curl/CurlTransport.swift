import Foundation
import PressroomSupport
import Synchronization

/// A fixed set of reusable easy handles, each used by one thread of a
/// ``BlockingThreadPool`` at a time: blocking `curl_easy_perform` calls stay
/// off Swift's cooperative pool, and connections are kept alive between
/// requests instead of a new TCP connection per request.
final class CurlTransport: Sendable {
    struct Options: Sendable, Equatable {
        var connectTimeoutMilliseconds: Int = 10_000
        /// A transfer slower than this many bytes per second...
        var lowSpeedLimitBytesPerSecond: Int = 1024
        /// ...for this many seconds is aborted as stalled.
        var lowSpeedTimeSeconds: Int = 30
        /// Concurrent requests (threads and easy handles).
        var connections: Int = 8
    }

    let options: Options
    private let pool: BlockingThreadPool
    /// Idle handles. `Mutex` guards the array; a handle is only touched by
    /// the thread that took it out.
    private let idle: Mutex<[UnsafeTransfer<CurlEasyHandle>]>

    init(options: Options) throws {
        self.options = options
        let count = max(1, options.connections)
        var handles: [UnsafeTransfer<CurlEasyHandle>] = []
        for _ in 0..<count { handles.append(UnsafeTransfer(try CurlEasyHandle())) }
        self.idle = Mutex(handles)
        self.pool = BlockingThreadPool(name: "pressroom-curl", threads: count)
    }

    deinit {
        pool.shutdown()
    }

    func perform(_ request: CurlHTTPRequest) async throws -> CurlHTTPResponse {
        let options = self.options
        return try await pool.run { [self] in
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
