import CVips

/// An encoder and its settings, as resolved from a policy's `output` block.
public enum OutputFormat: Sendable, Equatable {
    case jpeg(quality: Int, chromaSubsampling: Bool)
    case png(compression: Int)
    case tiff(compression: TIFFCompression)

    public enum TIFFCompression: String, Sendable, Codable, Equatable {
        case none, lzw, deflate, jpeg

        var vipsValue: VipsForeignTiffCompression {
            switch self {
            case .none: VIPS_FOREIGN_TIFF_COMPRESSION_NONE
            case .lzw: VIPS_FOREIGN_TIFF_COMPRESSION_LZW
            case .deflate: VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE
            case .jpeg: VIPS_FOREIGN_TIFF_COMPRESSION_JPEG
            }
        }
    }

    public var name: String {
        switch self {
        case .jpeg: "jpeg"
        case .png: "png"
        case .tiff: "tiff"
        }
    }

    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        case .png: "png"
        case .tiff: "tif"
        }
    }

    public var contentType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .tiff: "image/tiff"
        }
    }
}
