/// What one policy makes from a source, whoever asks (the CLI, a derive or render job).
public struct PolicyResult: Sendable {
    /// The key the jobs store the output at.
    public var key: String
    /// A thumbnail or preview, encoded in memory; nil for a product, whose master is the spool
    /// file in `render.master`.
    public var output: ImageOutput?
    public var width: Int
    public var height: Int
    /// The master's crop and verification; nil for thumbnails and previews.
    public var render: RenderResult?
}
