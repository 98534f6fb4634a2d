/// What `derive` produces for an upload: thumbnail, preview(s), the report as JSON, and the report itself.
public struct DeriveResult: Sendable {
    public var sourceSHA256: String
    public var probe: ImageProbe
    /// Derivatives then the report JSON, in a stable order.
    public var outputs: [ImageOutput]
    public var report: QualityReport

    /// The derivative of a policy, e.g. the preview render verification compares against.
    public func output(policy name: String) -> ImageOutput? {
        outputs.first { $0.policy == name }
    }
}
