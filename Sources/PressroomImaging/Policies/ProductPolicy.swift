import PressroomColor

/// One product's rules, decoded from `config/policies/<name>.yaml`.
///
/// Decoding fills every optional field with its default, so encoding a decoded
/// policy is canonical: two files meaning the same thing have the same digest.
public struct ProductPolicy: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case thumbnail, preview, product }
    /// `auto` turns the product to match the photo (a 4×6 print of a portrait photo is 4 wide).
    public enum Orientation: String, Sendable, Codable { case auto, fixed }
    /// `crop` fills the product and cuts the excess; `fit` shows the whole crop on a background.
    public enum AspectHandling: String, Sendable, Codable { case crop, fit }

    public struct Size: Sendable, Codable, Equatable {
        public enum Unit: String, Sendable, Codable { case mm, `in`, px }
        public var width: Double
        public var height: Double
        public var unit: Unit
        /// Target resolution for physical sizes.
        public var dpi: Double

        public init(width: Double, height: Double, unit: Unit, dpi: Double = 300) {
            self.width = width
            self.height = height
            self.unit = unit
            self.dpi = dpi
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            width = try c.decode(Double.self, forKey: .width)
            height = try c.decode(Double.self, forKey: .height)
            unit = try c.decode(Unit.self, forKey: .unit)
            dpi = try c.decodeIfPresent(Double.self, forKey: .dpi) ?? (unit == .px ? 72 : 300)
        }

        /// Millimetres per unit (nil for pixels).
        var millimetresPerUnit: Double? {
            switch unit {
            case .mm: 1
            case .in: 25.4
            case .px: nil
            }
        }
    }

    public struct Bleed: Sendable, Codable, Equatable {
        /// How the bleed band is filled: mirrored image (canvas wrap), repeated edge pixels, or the background.
        public enum Fill: String, Sendable, Codable { case mirror, copy, background }
        public var mm: Double
        public var fill: Fill

        public init(mm: Double, fill: Fill) {
            self.mm = mm
            self.fill = fill
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            mm = try c.decode(Double.self, forKey: .mm)
            fill = try c.decodeIfPresent(Fill.self, forKey: .fill) ?? .mirror
        }
    }

    public struct Resolution: Sendable, Codable, Equatable {
        /// Effective DPI below which the product is rejected.
        public var minimum: Double
        /// Effective DPI below which the shop should warn the customer.
        public var warning: Double

        public init(minimum: Double, warning: Double) {
            self.minimum = minimum
            self.warning = warning
        }
    }

    public struct Background: Sendable, Codable, Equatable {
        public enum Kind: String, Sendable, Codable { case color, blur }
        public var kind: Kind
        /// RGB 0–255 (used for `color`, and to flatten transparency).
        public var color: [Double]
        /// Gaussian sigma in output pixels for `blur`.
        public var sigma: Double

        public init(kind: Kind = .color, color: [Double] = [255, 255, 255], sigma: Double = 30) {
            self.kind = kind
            self.color = color
            self.sigma = sigma
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? .color
            color = try c.decodeIfPresent([Double].self, forKey: .color) ?? [255, 255, 255]
            sigma = try c.decodeIfPresent(Double.self, forKey: .sigma) ?? 30
        }
    }

    public struct Watermark: Sendable, Codable, Equatable {
        public enum Placement: String, Sendable, Codable { case centre, north, south, east, west, northeast, northwest, southeast, southwest }
        /// Text drawn in white; exactly one of `text` and `image` is set.
        public var text: String?
        /// A file name in the profiles directory (PNG with alpha, say), loaded with the catalog so its
        /// bytes are part of the policy digest.
        public var image: String?
        public var opacity: Double
        /// Width of the text or image as a share of the image width.
        public var width: Double
        public var placement: Placement
        /// Used for `text` only.
        public var font: String

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            text = try c.decodeIfPresent(String.self, forKey: .text)
            image = try c.decodeIfPresent(String.self, forKey: .image)
            opacity = try c.decodeIfPresent(Double.self, forKey: .opacity) ?? 0.3
            width = try c.decodeIfPresent(Double.self, forKey: .width) ?? 0.5
            placement = try c.decodeIfPresent(Placement.self, forKey: .placement) ?? .centre
            font = try c.decodeIfPresent(String.self, forKey: .font) ?? "DejaVu Sans Bold"
        }
    }

    public struct Output: Sendable, Codable, Equatable {
        public enum Format: String, Sendable, Codable { case jpeg, png, tiff }
        public var format: Format
        /// JPEG quality 1–100.
        public var quality: Int
        /// PNG zlib level 0–9.
        public var pngCompression: Int
        public var tiffCompression: OutputFormat.TIFFCompression
        /// `srgb` (libvips built-in) or a file name in the profiles directory.
        public var profile: String
        public var intent: RenderingIntent
        public var blackPointCompensation: Bool
        /// Drop EXIF/XMP/IPTC (the ICC profile is always kept).
        public var stripMetadata: Bool

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            format = try c.decodeIfPresent(Format.self, forKey: .format) ?? .jpeg
            quality = try c.decodeIfPresent(Int.self, forKey: .quality) ?? 90
            pngCompression = try c.decodeIfPresent(Int.self, forKey: .pngCompression) ?? 6
            tiffCompression = try c.decodeIfPresent(OutputFormat.TIFFCompression.self, forKey: .tiffCompression) ?? .lzw
            profile = try c.decodeIfPresent(String.self, forKey: .profile) ?? "srgb"
            intent = try c.decodeIfPresent(RenderingIntent.self, forKey: .intent) ?? .relative
            blackPointCompensation = try c.decodeIfPresent(Bool.self, forKey: .blackPointCompensation) ?? true
            stripMetadata = try c.decodeIfPresent(Bool.self, forKey: .stripMetadata) ?? true
        }

        var encoder: OutputFormat {
            switch format {
            case .jpeg: .jpeg(quality: quality, chromaSubsampling: quality < 90)
            case .png: .png(compression: pngCompression)
            case .tiff: .tiff(compression: tiffCompression)
            }
        }
    }

    public var name: String
    public var kind: Kind
    public var title: String
    public var size: Size
    public var orientation: Orientation
    public var aspect: AspectHandling
    /// Largest relative difference between a customer crop's aspect and the product's that is accepted (then trimmed).
    public var cropTolerance: Double
    public var bleed: Bleed
    /// Margin inside the trim that should hold nothing important, in mm (informational for designers).
    public var safeArea: Double
    public var resolution: Resolution
    public var background: Background
    public var watermark: Watermark?
    public var output: Output

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(Kind.self, forKey: .kind)
        title = try c.decodeIfPresent(String.self, forKey: .title) ?? name
        size = try c.decode(Size.self, forKey: .size)
        orientation = try c.decodeIfPresent(Orientation.self, forKey: .orientation) ?? .auto
        aspect = try c.decodeIfPresent(AspectHandling.self, forKey: .aspect) ?? (kind == .product ? .crop : .fit)
        cropTolerance = try c.decodeIfPresent(Double.self, forKey: .cropTolerance) ?? 0.05
        bleed = try c.decodeIfPresent(Bleed.self, forKey: .bleed) ?? Bleed(mm: 0, fill: .mirror)
        safeArea = try c.decodeIfPresent(Double.self, forKey: .safeArea) ?? 0
        resolution = try c.decodeIfPresent(Resolution.self, forKey: .resolution) ?? Resolution(minimum: 100, warning: 200)
        background = try c.decodeIfPresent(Background.self, forKey: .background) ?? Background()
        watermark = try c.decodeIfPresent(Watermark.self, forKey: .watermark)
        output = try c.decode(Output.self, forKey: .output)
    }
}
