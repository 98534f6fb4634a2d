/// The operation a presigned URL allows.
public enum PresignMethod: String, Sendable, Codable, CaseIterable {
    case get = "GET"
    case put = "PUT"
}
