extension ProductPolicy {
    /// The trim (finished product) size in pixels, before bleed and before auto-orientation.
    public var pixelSize: (width: Int, height: Int) {
        guard let perUnit = size.millimetresPerUnit else {
            return (Int(size.width), Int(size.height))
        }
        return (Self.pixels(size.width * perUnit, dpi: size.dpi), Self.pixels(size.height * perUnit, dpi: size.dpi))
    }

    /// Bleed per edge in pixels.
    public var bleedPixels: Int {
        bleed.mm > 0 ? Self.pixels(bleed.mm, dpi: size.dpi) : 0
    }

    /// Print size in inches (nil for pixel-sized derivatives).
    var inches: (width: Double, height: Double)? {
        guard let perUnit = size.millimetresPerUnit else { return nil }
        return (size.width * perUnit / 25.4, size.height * perUnit / 25.4)
    }

    static func pixels(_ millimetres: Double, dpi: Double) -> Int {
        max(1, Int((millimetres / 25.4 * dpi).rounded()))
    }
}
