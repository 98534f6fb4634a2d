/// A crop in normalised coordinates (0...1) of the upright (EXIF-rotated) image.
public struct CropRect: Sendable, Codable, Equatable, CustomStringConvertible {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public static let full = CropRect(x: 0, y: 0, width: 1, height: 1)

    /// Parses `x,y,w,h` as given on the command line.
    public init?(parsing text: String) {
        let parts = text.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4 else { return nil }
        self.init(x: parts[0], y: parts[1], width: parts[2], height: parts[3])
    }

    /// Throws unless the rectangle is non-empty and inside the image.
    public func validated() throws(ImagingError) -> CropRect {
        let values = [x, y, width, height]
        guard values.allSatisfy(\.isFinite), x >= 0, y >= 0, width > 0, height > 0,
              x + width <= 1.000001, y + height <= 1.000001 else {
            throw ImagingError(.invalidCrop, "crop \(self) must lie within 0...1 with positive size")
        }
        return self
    }

    /// Fixed-precision form used in object keys, so equal crops give equal keys.
    public var description: String {
        [x, y, width, height].map { String(format: "%.6f", $0) }.joined(separator: ",")
    }
}

import Foundation
