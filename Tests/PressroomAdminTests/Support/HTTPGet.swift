import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A plain HTTP request over loopback with Foundation's client, so the admin
/// server is checked by a client that shares no code with it.
struct HTTPGet {
    var status: Int
    var contentType: String?
    var body: String

    static func fetch(port: UInt16, path: String, method: String = "GET") async throws -> HTTPGet {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 10
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        return HTTPGet(
            status: http.statusCode,
            contentType: http.value(forHTTPHeaderField: "Content-Type"),
            body: String(decoding: data, as: UTF8.self)
        )
    }
}
