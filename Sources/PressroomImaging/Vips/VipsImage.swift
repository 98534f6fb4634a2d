import CVips
import CVipsShims
import Foundation

/// Owns one reference to a libvips image and releases it exactly once.
///
/// Images opened from memory reference the caller's bytes without copying, so
/// every image derived from them keeps `source` alive too.
public final class VipsImage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<CVips.VipsImage>
    /// The encoded source the pixels are (lazily) read from.
    private let source: EncodedInput?
    /// Other images this one reads from (a join's second input), kept alive with their bytes.
    private let inputs: [VipsImage]

    init(_ pointer: UnsafeMutablePointer<CVips.VipsImage>, source: EncodedInput?, inputs: [VipsImage] = []) {
        self.pointer = pointer
        self.source = source
        self.inputs = inputs
    }

    /// A new pipeline root (a decode, pixels in memory): watched by the calling job's
    /// cancellation, so everything computed from it stops when the job is cancelled.
    static func root(_ pointer: UnsafeMutablePointer<CVips.VipsImage>, source: EncodedInput?) -> VipsImage {
        VipsCancellation.current?.watch(pointer)
        return VipsImage(pointer, source: source)
    }

    deinit {
        g_object_unref(UnsafeMutableRawPointer(pointer))
    }

    /// Opens encoded bytes lazily: only the header is read until pixels are needed.
    static func open(_ data: Data, sequential: Bool) throws(ImagingError) -> VipsImage {
        try open(EncodedInput(data), sequential: sequential)
    }

    /// The same over a source already opened (shared by several decodes of one input, each
    /// through a libvips source of its own).
    static func open(_ input: EncodedInput, sequential: Bool) throws(ImagingError) -> VipsImage {
        try open(input, through: try input.makeVipsSource(), sequential: sequential)
    }

    /// Opens through `source` (one the probe has sniffed already).
    static func open(_ input: EncodedInput, through source: VipsSource, sequential: Bool) throws(ImagingError) -> VipsImage {
        guard let image = pressroom_vips_new_from_source(source.pointer, sequential ? 1 : 0, 1) else {
            throw VipsError.take(.corrupt, "cannot read image header")
        }
        return .root(image, source: input)
    }

    /// Opens a file lazily; `shrink` > 1 asks the JPEG loader to decode at 1/shrink scale.
    static func open(file: URL, sequential: Bool, shrink: Int = 1) throws(ImagingError) -> VipsImage {
        try Imaging.startVips()
        guard let image = pressroom_vips_new_from_file(file.path, sequential ? 1 : 0, Int32(shrink)) else {
            throw VipsError.take(.corrupt, "cannot read image header")
        }
        return .root(image, source: nil)
    }

    /// Shrink-on-load thumbnail fitting a box, auto-rotated; `exportProfile` converts colour.
    static func thumbnail(
        _ input: EncodedInput, width: Int, height: Int, exportProfile: String?, intent: VipsIntent
    ) throws(ImagingError) -> VipsImage {
        let source = try input.makeVipsSource()
        var out: UnsafeMutablePointer<CVips.VipsImage>?
        let result = pressroom_vips_thumbnail_source(
            source.pointer, &out, Int32(width), Int32(height), VIPS_SIZE_DOWN,
            nil, exportProfile, intent, 1)
        guard result == 0, let out else { throw VipsError.take(.corrupt, "cannot decode image") }
        return .root(out, source: input)
    }

    /// Opens a JPEG decoded by libjpeg at 1/`shrink` scale (2, 4 or 8), lazily and sequentially.
    static func openJPEG(_ input: EncodedInput, shrink: Int) throws(ImagingError) -> VipsImage {
        let source = try input.makeVipsSource()
        guard let image = pressroom_vips_jpegload_source_shrunk(source.pointer, Int32(shrink)) else {
            throw VipsError.take(.corrupt, "cannot read image header")
        }
        return .root(image, source: input)
    }

    /// The thumbnail of an image already open (shrunk on load by the caller): fitted into the
    /// box, auto-rotated, `exportProfile` converting colour, as `thumbnail(_:…)` does from bytes.
    func thumbnail(width: Int, height: Int, exportProfile: String?, intent: VipsIntent) throws(ImagingError) -> VipsImage {
        var out: UnsafeMutablePointer<CVips.VipsImage>?
        let result = pressroom_vips_thumbnail_image(pointer, &out, Int32(width), Int32(height), VIPS_SIZE_DOWN, exportProfile, intent)
        guard result == 0, let out else { throw VipsError.take(.corrupt, "cannot decode image") }
        return .root(out, source: source)
    }

    /// Whether an ICC profile is attached (without copying it out).
    var hasICCProfile: Bool { vips_image_get_typeof(pointer, "icc-profile-data") != 0 }

    /// A copy tagged with libvips' sRGB profile, the profile an export to "srgb" embeds.
    func taggedSRGB() throws(ImagingError) -> VipsImage {
        try derive("copy", code: .internal) { pressroom_vips_tag_srgb(pointer, &$0) }
    }

    /// An 8-bit sRGB (3 bands) or grey (1 band) image from interleaved pixels, for synthetic inputs.
    public static func fromPixels(_ pixels: [UInt8], width: Int, height: Int, bands: Int) throws(ImagingError) -> VipsImage {
        guard pixels.count == width * height * bands else {
            throw ImagingError(.internal, "\(pixels.count) bytes for \(width)×\(height)×\(bands)")
        }
        try Imaging.startVips()
        let image = pixels.withUnsafeBytes { raw in
            vips_image_new_from_memory_copy(raw.baseAddress, raw.count, Int32(width), Int32(height), Int32(bands), VIPS_FORMAT_UCHAR)
        }
        guard let image else { throw VipsError.take(.internal, "cannot wrap pixels") }
        let typed = VipsImage.root(image, source: nil)
        return try typed.colourspaceTagged(bands >= 3 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_B_W)
    }

    private func colourspaceTagged(_ space: VipsInterpretation) throws(ImagingError) -> VipsImage {
        pointer.pointee.`Type` = space
        return self
    }

    // MARK: Header

    public var width: Int { Int(vips_image_get_width(pointer)) }
    public var height: Int { Int(vips_image_get_height(pointer)) }
    public var bands: Int { Int(vips_image_get_bands(pointer)) }
    public var hasAlpha: Bool { vips_image_hasalpha(pointer) != 0 }
    var interpretation: VipsInterpretation { vips_image_get_interpretation(pointer) }
    var bandFormat: VipsBandFormat { vips_image_get_format(pointer) }
    var orientation: Int { Int(vips_image_get_orientation(pointer)) }
    var pageCount: Int { Int(vips_image_get_n_pages(pointer)) }
    var pageHeight: Int { Int(vips_image_get_page_height(pointer)) }
    /// The libvips loader that opened the image ("jpegload", "tiffload"...).
    var loader: String? {
        var value: UnsafePointer<CChar>?
        guard vips_image_get_typeof(pointer, "vips-loader") != 0, vips_image_get_string(pointer, "vips-loader", &value) == 0, let value else { return nil }
        return String(cString: value)
    }

    /// The embedded ICC profile, if any.
    public var iccProfile: Data? {
        guard vips_image_get_typeof(pointer, "icc-profile-data") != 0 else { return nil }
        var data: UnsafeRawPointer?
        var length = 0
        guard vips_image_get_blob(pointer, "icc-profile-data", &data, &length) == 0, let data else {
            vips_error_clear()
            return nil
        }
        return Data(bytes: data, count: length)
    }

    /// The data colour space signature of the embedded profile ("RGB ", "CMYK", "GRAY"...).
    var iccColorSpaceSignature: String? {
        guard let profile = iccProfile, profile.count >= 20 else { return nil }
        return String(decoding: profile[profile.startIndex + 16 ..< profile.startIndex + 20], as: UTF8.self)
    }

    /// A copy without the embedded profile (after a conversion made it stale).
    func removingProfile() throws(ImagingError) -> VipsImage {
        // A copy (same resolution) owns its own metadata table, so removing the field leaves `self` intact.
        let copy = try derive("copy") { pressroom_vips_set_resolution(pointer, &$0, vips_image_get_xres(pointer), vips_image_get_yres(pointer)) }
        _ = vips_image_remove(copy.pointer, "icc-profile-data")
        return copy
    }

    // MARK: Operations

    private func derive(_ what: String, code: ImagingError.Code = .corrupt, reading others: [VipsImage] = [],
                        _ body: (inout UnsafeMutablePointer<CVips.VipsImage>?) -> Int32) throws(ImagingError) -> VipsImage {
        var out: UnsafeMutablePointer<CVips.VipsImage>?
        guard body(&out) == 0, let out else { throw VipsError.take(code, what) }
        return VipsImage(out, source: source, inputs: inputs + others)
    }

    /// Clockwise quarter turns.
    public enum Rotation: Sendable { case quarter, half, threeQuarters }

    public func rotated(_ rotation: Rotation) throws(ImagingError) -> VipsImage {
        let angle: VipsAngle
        switch rotation {
        case .quarter: angle = VIPS_ANGLE_D90
        case .half: angle = VIPS_ANGLE_D180
        case .threeQuarters: angle = VIPS_ANGLE_D270
        }
        return try derive("rot") { pressroom_vips_rot(pointer, &$0, angle) }
    }

    public func flipped(horizontally: Bool) throws(ImagingError) -> VipsImage {
        try derive("flip") { pressroom_vips_flip(pointer, &$0, horizontally ? VIPS_DIRECTION_HORIZONTAL : VIPS_DIRECTION_VERTICAL) }
    }

    func autorotated() throws(ImagingError) -> VipsImage {
        try derive("autorot") { pressroom_vips_autorot(pointer, &$0) }
    }

    public func extractArea(left: Int, top: Int, width: Int, height: Int) throws(ImagingError) -> VipsImage {
        try derive("extract_area") { pressroom_vips_extract_area(pointer, &$0, Int32(left), Int32(top), Int32(width), Int32(height)) }
    }

    /// Resizes to exactly `width`×`height` pixels.
    public func resized(width: Int, height: Int) throws(ImagingError) -> VipsImage {
        if width == self.width && height == self.height { return self }
        let h = Double(width) / Double(self.width)
        let v = Double(height) / Double(self.height)
        let resized = try derive("resize") { pressroom_vips_resize(pointer, &$0, h, v) }
        // Rounding inside vips_resize can leave a pixel more or less; pin the size exactly.
        return try resized.pinned(width: width, height: height)
    }

    /// Exactly `width`×`height` without resampling: cuts or repeats the right and bottom edge
    /// (for sizes a rounding away from the wanted one).
    func pinned(width: Int, height: Int) throws(ImagingError) -> VipsImage {
        if width == self.width && height == self.height { return self }
        return try embed(x: 0, y: 0, width: width, height: height, extend: VIPS_EXTEND_COPY)
    }

    func embed(x: Int, y: Int, width: Int, height: Int, extend: VipsExtend, background: [Double] = []) throws(ImagingError) -> VipsImage {
        try derive("embed") { out in
            background.withUnsafeBufferPointer {
                pressroom_vips_embed(pointer, &out, Int32(x), Int32(y), Int32(width), Int32(height), extend, $0.baseAddress, Int32($0.count))
            }
        }
    }

    /// `other` below this image (same width).
    func joined(below other: VipsImage) throws(ImagingError) -> VipsImage {
        try derive("join", reading: [other]) { pressroom_vips_join(pointer, other.pointer, &$0) }
    }

    func inserting(_ sub: VipsImage, x: Int, y: Int) throws(ImagingError) -> VipsImage {
        try derive("insert", reading: [sub]) { pressroom_vips_insert(pointer, sub.pointer, &$0, Int32(x), Int32(y)) }
    }

    func flattened(background: [Double]) throws(ImagingError) -> VipsImage {
        try derive("flatten") { out in
            background.withUnsafeBufferPointer { pressroom_vips_flatten(pointer, &out, $0.baseAddress, Int32($0.count)) }
        }
    }

    /// Averages `factor`×`factor` blocks (a box filter): cheap, for measurements, not outputs.
    func boxShrunk(by factor: Int) throws(ImagingError) -> VipsImage {
        if factor <= 1 { return self }
        return try derive("shrink") { pressroom_vips_shrink(pointer, &$0, Double(factor), Double(factor)) }
    }

    func blurred(sigma: Double) throws(ImagingError) -> VipsImage {
        try derive("gaussblur") { pressroom_vips_gaussblur(pointer, &$0, sigma) }
    }

    func cast(_ format: VipsBandFormat) throws(ImagingError) -> VipsImage {
        try derive("cast") { pressroom_vips_cast(pointer, &$0, format) }
    }

    func colourspace(_ space: VipsInterpretation) throws(ImagingError) -> VipsImage {
        try derive("colourspace") { pressroom_vips_colourspace(pointer, &$0, space) }
    }

    /// Converts to `profile` (a file path or libvips built-in name) from the embedded profile,
    /// or from `fallback` when there is none; the output carries `profile`.
    func iccTransform(to profile: String, fallback: String, intent: VipsIntent, blackPointCompensation: Bool) throws(ImagingError) -> VipsImage {
        try derive("icc_transform", code: .badProfile) {
            pressroom_vips_icc_transform(pointer, &$0, profile, fallback, intent, blackPointCompensation ? 1 : 0, 1, 8)
        }
    }

    /// Converts to sRGB (embedded profile or sRGB assumed) and embeds libvips' sRGB profile.
    func convertedToSRGB() throws(ImagingError) -> VipsImage {
        try iccTransform(to: "srgb", fallback: "srgb", intent: VIPS_INTENT_RELATIVE, blackPointCompensation: false)
    }

    func castToUChar() throws(ImagingError) -> VipsImage {
        try cast(VIPS_FORMAT_UCHAR)
    }

    func settingResolution(dotsPerInch: Double) throws(ImagingError) -> VipsImage {
        let perMillimetre = dotsPerInch / 25.4
        return try derive("copy") { pressroom_vips_set_resolution(pointer, &$0, perMillimetre, perMillimetre) }
    }

    /// Caps the threads a sink computing this image uses (a per-pipeline `vipsConcurrency`).
    func limitingThreads(to threads: Int) throws(ImagingError) -> VipsImage {
        try derive("threads") { pressroom_vips_limit_threads(pointer, &$0, Int32(threads)) }
    }

    func strippingMetadata() throws(ImagingError) -> VipsImage {
        try derive("strip") { pressroom_vips_strip_metadata(pointer, &$0) }
    }

    func watermarked(text: String, font: String, widthFraction: Double, opacity: Double, placement: VipsCompassDirection) throws(ImagingError) -> VipsImage {
        try derive("watermark", code: .internal) {
            pressroom_vips_text_watermark(pointer, &$0, text, font, widthFraction, opacity, placement)
        }
    }

    /// Blends an encoded watermark image over this one (see `pressroom_vips_image_watermark`).
    /// The shim decodes the bytes during the call, so they need not outlive the result.
    func watermarked(image: Data, widthFraction: Double, opacity: Double, placement: VipsCompassDirection) throws(ImagingError) -> VipsImage {
        var out: UnsafeMutablePointer<CVips.VipsImage>?
        let result = image.withUnsafeBytes { raw in
            pressroom_vips_image_watermark(pointer, &out, raw.baseAddress, raw.count, widthFraction, opacity, placement)
        }
        guard result == 0, let out else { throw VipsError.take(.internal, "image watermark") }
        return VipsImage(out, source: source, inputs: inputs)
    }

    /// Keeps the last `rows` rows (plus the strips in flight) computed, so an operation that
    /// reaches back a bounded distance (a mirrored bleed) reads a sequential pipeline without
    /// rendering it to memory whole. `threads` is how many libvips threads compute the pipeline.
    func cachingRecentRows(_ rows: Int, threads: Int) throws(ImagingError) -> VipsImage {
        let stripHeight = 16
        // A sequential cache recycles its topmost free tile, so the last `rows` rows stay while
        // later ones are computed; beyond them (one more for alignment) only the strips in
        // flight: each worker's request spans at most two tiles, twice that for slack. Each
        // tile spans the whole width, so this, not the image's height, is what it costs.
        let tiles = (rows + stripHeight - 1) / stripHeight + 1 + 4 * max(2, threads)
        return try derive("tilecache") { pressroom_vips_sequential_cache(pointer, &$0, Int32(stripHeight), Int32(tiles)) }
    }

    /// Renders the pipeline into memory, so later branches do not decode again. The copy is a
    /// new root the job's cancellation watches, unless it is only a side input of a pipeline
    /// whose own root must stay the one a sink reports progress to (see `Imaging.mirroredBleed`).
    func materialized(watched: Bool = true) throws(ImagingError) -> VipsImage {
        guard let out = pressroom_vips_copy_memory(pointer) else { throw VipsError.take(.corrupt, "cannot decode image") }
        return watched ? .root(out, source: nil) : VipsImage(out, source: nil)
    }

    // MARK: Measurements

    func average() throws(ImagingError) -> Double {
        var value = 0.0
        guard pressroom_vips_avg(pointer, &value) == 0 else { throw VipsError.take(.corrupt, "avg") }
        return value
    }

    func standardDeviation() throws(ImagingError) -> Double {
        var value = 0.0
        guard pressroom_vips_deviate(pointer, &value) == 0 else { throw VipsError.take(.corrupt, "deviate") }
        return value
    }

    func laplacianVariance() throws(ImagingError) -> Double {
        var value = 0.0
        guard pressroom_vips_laplacian_variance(pointer, &value) == 0 else { throw VipsError.take(.corrupt, "sharpness") }
        return value
    }

    func meanAbsoluteDifference(_ other: VipsImage) throws(ImagingError) -> Double {
        var value = 0.0
        guard pressroom_vips_mean_abs_difference(pointer, other.pointer, &value) == 0 else {
            throw VipsError.take(.internal, "compare")
        }
        return value
    }

    /// The interleaved pixel bytes (for 8-bit images).
    public func pixelBytes() throws(ImagingError) -> [UInt8] {
        var length = 0
        guard let memory = vips_image_write_to_memory(pointer, &length) else {
            throw VipsError.take(.corrupt, "cannot decode pixels")
        }
        defer { g_free(memory) }
        return Array(UnsafeRawBufferPointer(start: memory, count: length).bindMemory(to: UInt8.self))
    }

    // MARK: Encoding

    /// Small outputs (thumbnails, previews, reports' images) encoded in memory.
    public func encoded(_ format: OutputFormat) throws(ImagingError) -> Data {
        guard let target = pressroom_vips_memory_target_new() else { throw VipsError.take(.internal, "cannot make a memory target") }
        defer { g_object_unref(UnsafeMutableRawPointer(target)) }
        try write(format, to: target)
        var length = 0
        guard let bytes = pressroom_vips_memory_target_bytes(target, &length) else { return Data() }
        return Data(bytes: bytes, count: length)
    }

    /// Encodes into a libvips target (a spool file or memory) as libvips computes the pixels.
    /// `streaming` leaves out JPEG's optimised Huffman tables: libjpeg computes them from every
    /// coefficient of the image, held in memory (about three bytes a pixel), so a master streams
    /// without them, as the vips CLI writes it; small outputs keep the few percent they save.
    func write(_ format: OutputFormat, to target: UnsafeMutablePointer<CVips.VipsTarget>, streaming: Bool = false) throws(ImagingError) {
        let result: Int32
        switch format {
        case .jpeg(let quality, let subsampling):
            result = pressroom_vips_jpegsave_target(pointer, target, Int32(quality), 0, subsampling ? 0 : 1, streaming ? 0 : 1)
        case .png(let compression):
            result = pressroom_vips_pngsave_target(pointer, target, Int32(compression))
        case .tiff(let compression):
            result = pressroom_vips_tiffsave_target(pointer, target, compression.vipsValue, 90, compression == .none ? 0 : 1)
        }
        guard result == 0 else { throw VipsError.take(.corrupt, "cannot encode \(format.name)") }
    }
}
