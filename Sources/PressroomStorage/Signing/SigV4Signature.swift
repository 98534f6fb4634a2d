/// The intermediate and final products of one signing, kept apart so tests
/// (and debugging a `SignatureDoesNotMatch`) can compare each step.
public struct SigV4Signature: Sendable, Equatable {
    public var canonicalRequest: String
    public var stringToSign: String
    public var signature: String
    /// The request as it must be sent: with the `Authorization` header for
    /// header signing, or with the `X-Amz-*` query items for presigning.
    public var signedRequest: SigV4Request
}
