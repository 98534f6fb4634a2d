/// Where clamd listens: TCP (loopback in practice; clamd's protocol has no
/// authentication or encryption) or a unix socket.
public enum ClamdAddress: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// Parses `tcp://127.0.0.1:3310` or `unix:///run/clamav/clamd.ctl`.
    public init(parsing text: String) throws(ClamdError) {
        if text.hasPrefix("unix://") {
            let path = String(text.dropFirst("unix://".count))
            guard path.hasPrefix("/"), path.utf8.count < 108 else {
                throw ClamdError(.invalidAddress, "unix socket address needs an absolute path shorter than 108 bytes: \(text)")
            }
            self = .unix(path: path)
            return
        }
        guard text.hasPrefix("tcp://") else {
            throw ClamdError(.invalidAddress, "clamd address must be tcp://HOST:PORT or unix:///PATH, not \(text)")
        }
        let rest = text.dropFirst("tcp://".count)
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
            throw ClamdError(.invalidAddress, "clamd TCP address needs a port: \(text)")
        }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ClamdError(.invalidAddress, "clamd TCP address needs a host: \(text)") }
        self = .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): return "tcp://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .unix(let path): return "unix://\(path)"
        }
    }
}
