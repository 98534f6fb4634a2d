import Foundation

extension Imaging {
    /// A policy's output, the same bytes its job writes: a thumbnail or preview exactly as
    /// `derive` makes it (fitted, watermarked), or a product's master as `render` makes it,
    /// verified against the catalog's preview of the source (a spool file the caller removes).
    public func policyOutput(source: Data, policy: ResolvedPolicy, catalog: PolicyCatalog, crop: CropRect?) async throws -> PolicyResult {
        try await run { try self.policyOutputSync(source: source, policy: policy, catalog: catalog, crop: crop) }
    }

    func policyOutputSync(source: Data, policy: ResolvedPolicy, catalog: PolicyCatalog, crop: CropRect?) throws(ImagingError) -> PolicyResult {
        let sha = Imaging.sha256(source)
        let isProduct = policy.policy.kind == .product
        // What the customer saw: the render job verifies against the preview derive stored.
        let previewPolicy = catalog.derivatives.first(where: { $0.policy.kind == .preview })
        // The decode derivatives are made from, if any is (a render opens the source again itself).
        let base = try EncodedInput.opening(.bytes(source)) { input throws(ImagingError) -> DerivativeBase? in
            _ = try probeImage(input)
            if !isProduct, crop != nil {
                throw ImagingError(.invalidCrop, "\(policy.name) is a \(policy.policy.kind.rawValue) policy: it shows the whole photo, a crop applies to products")
            }
            guard !isProduct || previewPolicy != nil else { return nil }
            return try derivativeBase(input, catalog: catalog)
        }
        guard isProduct else {
            guard let base else { throw ImagingError(.internal, "no decode for \(policy.name)") }
            let made = try makeDerivative(of: base, policy: policy, sourceSHA256: sha)
            return PolicyResult(key: made.output.key, output: made.output, width: made.width, height: made.height, render: nil)
        }
        var preview: Data?
        if let previewPolicy, let base {
            preview = try makeDerivative(of: base, policy: previewPolicy, sourceSHA256: sha).output.data
        }
        let result = try renderSync(source: .bytes(source), sha256: sha, policy: policy, crop: crop, preview: preview)
        return PolicyResult(key: result.master.key, output: nil, width: result.verification.width, height: result.verification.height, render: result)
    }
}
