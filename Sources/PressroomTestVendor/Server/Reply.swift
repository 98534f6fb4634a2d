import FlyingFox
import Foundation

/// What a route answers: a response, or a connection closed without one.
struct Reply: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: Data
    /// Close the connection without sending anything (`drop-after-accept`).
    var drop = false
    /// Runs once the reply is delivered (or dropped, or its hold ended): a
    /// create releases its in-flight key here.
    var afterDelivery: (@Sendable () async -> Void)?

    init(status: Int, headers: [(name: String, value: String)] = [], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response with sorted keys.
    static func json(_ status: Int, _ value: JSONValue, headers: [(name: String, value: String)] = []) -> Reply {
        var body = value.canonicalData
        body.append(UInt8(ascii: "\n"))
        return Reply(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
    }

    static let dropped: Reply = {
        var reply = Reply(status: 0, body: Data())
        reply.drop = true
        return reply
    }()

    init(_ stored: StoredResponse) {
        self.init(status: stored.status, headers: stored.headers, body: stored.body)
    }

    var stored: StoredResponse { StoredResponse(status: status, headers: headers, body: body) }

    func adding(header name: String, _ value: String) -> Reply {
        var copy = self
        copy.headers.append((name, value))
        return copy
    }

    var httpResponse: FlyingFox.HTTPResponse {
        if drop {
            return FlyingFox.HTTPResponse(webSocket: ConnectionDrop())
        }
        var headers = HTTPHeaders()
        for (name, value) in self.headers { headers.addValue(value, for: HTTPHeader(name)) }
        return FlyingFox.HTTPResponse(statusCode: HTTPStatusCode(status, phrase: Self.phrase(status)), headers: headers, body: body)
    }

    static func phrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: status < 500 ? "Client Error" : "Server Error"
        }
    }
}

/// Closes a connection without a byte of response. FlyingFox calls a
/// WebSocket handler's `makeFrames` before it writes the upgrade response;
/// throwing there makes it close the socket with nothing sent, which is
/// exactly what a vendor crashing after it committed an order looks like
/// to the client (curl: "Empty reply from server").
struct ConnectionDrop: WSHandler {
    struct Dropped: Error {}

    func makeFrames(for client: AsyncThrowingStream<WSFrame, any Error>) async throws -> AsyncStream<WSFrame> {
        throw Dropped()
    }
}

/// A request refused before its work started, carrying the answer.
struct Refusal: Error {
    var reply: Reply
}
