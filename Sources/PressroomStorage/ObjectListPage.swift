/// One page of a listing, for walking a prefix of millions of keys without
/// holding them: pass ``next`` as the cursor of the following call.
public struct ObjectListPage: Sendable, Equatable {
    /// Objects in key order (UTF-8 byte order, as S3 sorts).
    public var objects: [ObjectMetadata]
    /// The cursor for the next page (the last key of this one), or `nil` at the end.
    public var next: String?

    public init(objects: [ObjectMetadata], next: String?) {
        self.objects = objects
        self.next = next
    }
}
