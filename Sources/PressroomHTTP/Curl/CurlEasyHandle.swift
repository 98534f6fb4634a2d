import CCurlShims
import Foundation

/// Owns one libcurl easy handle (freed exactly once, in `deinit`).
///
/// The handle is reused request after request so its connection cache keeps
/// connections to the endpoint alive: `curl_easy_reset` clears options but
/// keeps live connections. Not thread-safe: ``HTTPClient`` lends each
/// handle to one pool thread at a time.
final class CurlEasyHandle {
    private let handle: UnsafeMutableRawPointer
    /// `CURLOPT_ERRORBUFFER` target: curl's detailed message for the last failure.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() throws {
        CurlEasyHandle.globalInit
        guard let handle = curl_easy_init() else {
            throw HTTPClientError(.io, "curl_easy_init failed")
        }
        self.handle = handle
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// `curl_global_init` must run once before any handle exists.
    private static let globalInit: Void = {
        _ = curl_global_init(pressroom_curl_global_all())
    }()

    /// Runs one request to completion on the calling (blocking) thread.
    func perform(_ request: HTTPRequest, options: HTTPClient.Options) throws -> HTTPResponse {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        let transfer = CurlTransfer(request: request)
        try transfer.openFiles()
        let context = Unmanaged.passUnretained(transfer).toOpaque()

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        // curl would add `Expect: 100-continue` for large bodies and wait for
        // it; S3-compatible servers answer errors quickly anyway.
        headerList = curl_slist_append(headerList, "Expect:")
        headerList = curl_slist_append(headerList, "Accept:")

        try check(pressroom_curl_setopt_string(handle, CURLOPT_URL, request.url), "URL")
        try check(pressroom_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        try check(pressroom_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        try check(pressroom_curl_setopt_long(handle, CURLOPT_TCP_NODELAY, 1), "TCP_NODELAY")
        try check(pressroom_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1), "TCP_KEEPALIVE")
        try check(pressroom_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeoutMilliseconds), "CONNECTTIMEOUT_MS")
        // Never follow a redirect, and speak nothing but HTTP(S): which hosts
        // are called is configuration's decision, not a server's.
        try check(pressroom_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0), "FOLLOWLOCATION")
        try check(pressroom_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"), "PROTOCOLS_STR")
        // libcurl silently re-sends a request when a *reused* keep-alive
        // connection closes before any response byte, POST included. When
        // that second copy may be a second print order, the request gets a
        // connection of its own: a failure then surfaces to the caller, who
        // knows how to reconcile.
        if !request.allowsResend {
            try check(pressroom_curl_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1), "FRESH_CONNECT")
        }
        if let timeout = request.timeout {
            let ms = max(1, Int(timeout.components.seconds) * 1000 + Int(timeout.components.attoseconds / 1_000_000_000_000_000))
            try check(pressroom_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, ms), "TIMEOUT_MS")
        }
        // Stall detection instead of a total timeout: a 2 GB master may take
        // minutes, but a transfer below the limit for this long is stuck.
        try check(pressroom_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedLimitBytesPerSecond), "LOW_SPEED_LIMIT")
        try check(pressroom_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, options.lowSpeedTimeSeconds), "LOW_SPEED_TIME")
        try check(pressroom_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, 512 * 1024), "BUFFERSIZE")
        try check(pressroom_curl_setopt_long(handle, CURLOPT_UPLOAD_BUFFERSIZE, 2 * 1024 * 1024), "UPLOAD_BUFFERSIZE")
        try check(pressroom_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), "HTTPHEADER")
        try check(pressroom_curl_set_header_callback(handle, CurlTransfer.headerCallback, context), "HEADERFUNCTION")
        try check(pressroom_curl_set_write_callback(handle, CurlTransfer.writeCallback, context), "WRITEFUNCTION")

        switch request.method {
        case "GET":
            break
        case "HEAD":
            try check(pressroom_curl_setopt_long(handle, CURLOPT_NOBODY, 1), "NOBODY")
        default:
            if case .none = request.body, request.method != "PUT" {
                try check(pressroom_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method), "CUSTOMREQUEST")
            } else {
                // Upload mode sends `Content-Length` from INFILESIZE (never
                // chunked, which S3 refuses for signed payloads).
                try check(pressroom_curl_setopt_long(handle, CURLOPT_UPLOAD, 1), "UPLOAD")
                try check(pressroom_curl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.length)), "INFILESIZE_LARGE")
                try check(pressroom_curl_set_read_callback(handle, CurlTransfer.readCallback, context), "READFUNCTION")
                try check(pressroom_curl_set_seek_callback(handle, CurlTransfer.seekCallback, context), "SEEKFUNCTION")
                if request.method != "PUT" {
                    try check(pressroom_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method), "CUSTOMREQUEST")
                }
            }
        }

        let code = withExtendedLifetime(transfer) { curl_easy_perform(handle) }
        if let localError = transfer.localError {
            throw HTTPClientError(transfer.localErrorCode, "\(request.method) transfer: \(localError)")
        }
        guard code == CURLE_OK else {
            var sent = 0
            _ = pressroom_curl_getinfo_long(handle, CURLINFO_REQUEST_SIZE, &sent)
            throw classify(code, method: request.method, requestSent: sent > 0)
        }
        var status = 0
        _ = pressroom_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let digest = transfer.hasher.map { Data($0.finalize()).base64EncodedString() }
        return HTTPResponse(
            status: status == 0 ? transfer.status : status,
            headers: transfer.headers,
            body: transfer.body,
            bodyLength: transfer.bodyLength,
            bodySHA256: digest
        )
    }

    private func check(_ code: CURLcode, _ option: String) throws {
        guard code == CURLE_OK else {
            throw HTTPClientError(.invalidRequest, "curl option \(option): \(String(cString: curl_easy_strerror(code)))")
        }
    }

    /// Network failures and timeouts may succeed when sent again; a bad URL
    /// or a refused protocol never will; anything else is a local failure.
    private func classify(_ code: CURLcode, method: String, requestSent: Bool) -> HTTPClientError {
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        let message = "\(method) failed: \(detail) (curl error \(code.rawValue))"
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return HTTPClientError(.timeout, message, requestSent: requestSent)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return HTTPClientError(.connection, message, requestSent: false)
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2,
            CURLE_HTTP2_STREAM, CURLE_SEND_FAIL_REWIND:
            return HTTPClientError(.connection, message, requestSent: requestSent)
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return HTTPClientError(.invalidRequest, message, requestSent: false)
        default:
            return HTTPClientError(.io, message, requestSent: requestSent)
        }
    }
}
