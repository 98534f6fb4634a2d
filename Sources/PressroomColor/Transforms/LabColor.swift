import CLcms2

/// A CIE L*a*b* (D50) colour, the space in which colour differences are measured.
public struct LabColor: Sendable, Equatable, Codable {
    public var l: Double
    public var a: Double
    public var b: Double

    public init(l: Double, a: Double, b: Double) {
        self.l = l
        self.a = a
        self.b = b
    }

    /// CIEDE2000 colour difference (lcms2's `cmsCIE2000DeltaE`, kL = kC = kH = 1).
    /// About 1 is the smallest difference a trained eye sees side by side.
    public func deltaE2000(to other: LabColor) -> Double {
        var lhs = cmsCIELab(L: l, a: a, b: b)
        var rhs = cmsCIELab(L: other.l, a: other.a, b: other.b)
        return cmsCIE2000DeltaE(&lhs, &rhs, 1, 1, 1)
    }
}
