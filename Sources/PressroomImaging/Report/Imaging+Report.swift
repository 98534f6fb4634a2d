import Foundation
import PressroomColor

extension Imaging {
    /// Builds the quality report from an upright 8-bit sRGB decode of the source.
    func assess(base: DerivativeBase, probe: ImageProbe, sha: String, catalog: PolicyCatalog) throws(ImagingError) -> QualityReport {
        let analysis = try base.analysis()
        let sharpness = (try analysis.laplacianVariance() * 10).rounded() / 10
        let blurry = sharpness < QualityReport.blurThreshold
        // Gamut sample: interleaved sRGB bytes, converted per CMYK profile (cached per profile).
        var gamutSample: [UInt8]?
        var gamutByProfile: [String: Double] = [:]
        var products: [ProductAssessment] = []
        for resolved in catalog.products {
            let policy = resolved.policy
            let plan = try RenderPlan(imageWidth: probe.uprightWidth, imageHeight: probe.uprightHeight, policy: policy, crop: nil)
            let dpi = ((plan.effectiveDPI ?? 0) * 10).rounded() / 10
            var verdict = Verdict.ok
            var reasons: [String] = []
            if dpi < policy.resolution.minimum {
                verdict = .reject
                reasons.append("effective resolution \(dpi) DPI is below the minimum \(policy.resolution.minimum)")
            } else if dpi < policy.resolution.warning {
                verdict = .warn
                reasons.append("effective resolution \(dpi) DPI is below the recommended \(policy.resolution.warning)")
            }
            if blurry && verdict == .ok {
                verdict = .warn
                reasons.append("the photo looks soft (sharpness \(sharpness) < \(QualityReport.blurThreshold))")
            }
            var gamut: Double?
            if resolved.profile.isCMYK {
                if let cached = gamutByProfile[resolved.profile.name + resolved.policy.output.intent.rawValue] {
                    gamut = cached
                } else {
                    if gamutSample == nil {
                        gamutSample = try base.fitted(width: Imaging.gamutSampleSize, height: Imaging.gamutSampleSize).pixelBytes()
                    }
                    let checker = try gamutChecker(for: resolved.profile, intent: policy.output.intent)
                    let share = (checker.outOfGamutShare(rgb: gamutSample ?? []) * 1000).rounded() / 10
                    gamutByProfile[resolved.profile.name + resolved.policy.output.intent.rawValue] = share
                    gamut = share
                }
                if let gamut, gamut > 10, verdict == .ok {
                    verdict = .warn
                    reasons.append("\(gamut)% of the pixels are outside the \(resolved.profile.name) gamut; colours will print duller")
                }
            }
            let inches = policy.inches ?? (0, 0)
            let landscape = plan.trimWidth >= plan.trimHeight
            let (long, short) = (max(inches.width, inches.height), min(inches.width, inches.height))
            products.append(ProductAssessment(
                policy: policy.name, title: policy.title, policyDigest: resolved.digest, verdict: verdict,
                effectiveDPI: dpi,
                printWidthInches: ((landscape ? long : short) * 100).rounded() / 100,
                printHeightInches: ((landscape ? short : long) * 100).rounded() / 100,
                cropLossPercent: (plan.cropLoss * 1000).rounded() / 10,
                gamutWarningPercent: gamut, reasons: reasons))
        }
        let suggested = products.filter { $0.verdict == .ok }
            .sorted { ($0.effectiveDPI, $1.policy) > ($1.effectiveDPI, $0.policy) }
            .map(\.policy)
        let source = SourceSummary(
            sha256: sha, format: probe.format, width: probe.uprightWidth, height: probe.uprightHeight,
            orientation: probe.orientation, pageCount: probe.pageCount, bitsPerSample: probe.bitsPerSample,
            hasAlpha: probe.hasAlpha, embeddedProfile: probe.embeddedProfile)
        return QualityReport(
            pipelineVersion: Imaging.pipelineVersion, catalogDigest: catalog.digest, source: source,
            sharpness: sharpness, blurry: blurry, products: products, suggestedProducts: suggested)
    }
}
