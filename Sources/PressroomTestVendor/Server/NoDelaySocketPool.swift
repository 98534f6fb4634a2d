import FlyingSocks
import Glibc

/// FlyingFox's socket pool, with `TCP_NODELAY` set on every socket it waits
/// on: the listener (Linux hands the flag down to the connections it accepts)
/// and each connection.
///
/// FlyingFox writes a response's head and body in two `send`s. With Nagle's
/// algorithm on, the body waits for the client to acknowledge the head, and
/// on a kept-alive connection the client delays that ACK by up to 40 ms, so
/// every request after a connection's first took 40 ms longer. Real vendor
/// front ends (nginx's `tcp_nodelay on`) do not do that.
struct NoDelaySocketPool<Base: AsyncSocketPool>: AsyncSocketPool {
    let base: Base

    func prepare() async throws { try await base.prepare() }

    func run() async throws { try await base.run() }

    func suspendSocket(_ socket: Socket, untilReadyFor events: Socket.Events) async throws {
        var on: Int32 = 1
        // A Unix socket or a closed one refuses the option; nothing to do then.
        _ = setsockopt(socket.file.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        try await base.suspendSocket(socket, untilReadyFor: events)
    }
}
