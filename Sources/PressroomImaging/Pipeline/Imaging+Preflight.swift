extension Imaging {
    /// What rendering this source for `policy` would get, from its header
    /// alone (no decode): the crop as the product's aspect adjusts it, and the
    /// effective DPI. Throws the render's own crop errors. The `order` job uses
    /// it to refuse a line before anything renders.
    public static func preflight(_ probe: ImageProbe, policy: ResolvedPolicy, crop: CropRect?) throws(ImagingError) -> (crop: CropRect, effectiveDPI: Double?) {
        let plan = try RenderPlan(imageWidth: probe.uprightWidth, imageHeight: probe.uprightHeight, policy: policy.policy, crop: crop)
        return (plan.crop, plan.effectiveDPI)
    }
}
