/// What one policy makes from a source, whoever asks (the CLI, a derive or render job).
public struct PolicyResult: Sendable {
    /// The encoded image under the key the jobs store it at.
    public var output: ImageOutput
    public var width: Int
    public var height: Int
    /// The master's crop and verification; nil for thumbnails and previews.
    public var render: RenderResult?
}
