import Foundation

extension QualityReport {
    /// The report for people, as `pressroom inspect` and `pressroom demo`
    /// print it: one line for the source, one per product with its reasons.
    public func text(title: String) -> String {
        var out: [String] = []
        out.append("\(title): \(source.format.rawValue) \(source.width)×\(source.height), orientation \(source.orientation), \(source.bitsPerSample)-bit, profile \(source.embeddedProfile ?? "none (sRGB assumed)")")
        out.append(String(format: "sharpness %.1f%@", sharpness, blurry ? " (blurry)" : ""))
        for product in products {
            let name = product.policy.padding(toLength: 16, withPad: " ", startingAt: 0)
            let verdict = product.verdict.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
            var line = name + " " + verdict + String(format: " %6.0f DPI  crop loss %4.1f%%", product.effectiveDPI, product.cropLossPercent)
            if let gamut = product.gamutWarningPercent { line += String(format: "  out of gamut %.1f%%", gamut) }
            out.append(line)
            for reason in product.reasons { out.append("    \(reason)") }
        }
        out.append("suggested: \(suggestedProducts.joined(separator: ", "))")
        return out.joined(separator: "\n")
    }
}
