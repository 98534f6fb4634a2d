#!/usr/bin/env python3
"""The libvips operations of Pressroom's derive/render, done by pyvips, for bench/imaging.

Usage: imaging_pyvips.py OPERATION IMAGE PROFILES_DIR ITERATIONS
Prints `pyvips OPERATION median_ms=... min_ms=... peak_rss_kb=...`.
The same outputs as Sources/PressroomImaging, written the plain pyvips way. derive: probe,
SHA-256, one decode (vips_thumbnail, shrink-on-load, to the largest derivative) that the
preview (watermarked), the thumbnail and the report's measurements (sharpness on 1024 px, the
gamut share on a 256 px sample through lcms2, as Pressroom's GamutChecker) all come from; the
report's DPI and crop figures are header arithmetic and left out. Where Pressroom's derive
does less work for the same outputs, this stays plain (see derive()). render: probe, render
geometry, shrink-on-load thumbnail, ICC transform, masters encoded to a file, hashed and
verified from it, as Pressroom streams them.
"""
import ctypes
import ctypes.util
import hashlib
import math
import os
import resource
import sys
import tempfile
import time

import pyvips

op, image_path, profiles, iterations = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
source = open(image_path, "rb").read()
pyvips.cache_set_max(50)
pyvips.cache_set_max_mem(64 << 20)
pyvips.cache_set_max_files(0)
pyvips.block_untrusted_set(True)


def fit(image, width, height):
    scale = min(width / image.width, height / image.height, 1)
    if scale >= 1:
        return image
    return exact(image, max(1, round(image.width * scale)), max(1, round(image.height * scale)))


def exact(image, width, height):
    if image.width == width and image.height == height:
        return image
    out = image.resize(width / image.width, vscale=height / image.height, kernel="lanczos3")
    if out.width != width or out.height != height:
        out = out.embed(0, 0, width, height, extend="copy")
    return out


def strip(image):
    out = image.copy()
    for name in out.get_fields():
        if name != "icc-profile-data" and out.get_typeof(name) != 0:
            out.remove(name)
    return out


def watermark(image, text, opacity, fraction):
    width = int(image.width * fraction)
    t = pyvips.Image.text(text, font="DejaVu Sans Bold", width=width, align="centre")
    t = t.resize(width / t.width).linear(opacity, 0, uchar=True)
    mask = t.gravity("centre", image.width, image.height, extend="black")
    white = pyvips.Image.black(image.width, image.height, bands=3).linear([255] * 3, [255] * 3, uchar=True)
    return mask.ifthenelse(white, image, blend=True)


def probe(data):
    header = pyvips.Image.new_from_buffer(data, "", access="sequential", fail_on="truncated")
    return header.width, header.height


class GamutChecker:
    """lcms2 through ctypes, as PressroomColor's GamutChecker: a proofing transform sRGB → Lab16
    with cmsFLAGS_GAMUTCHECK through the press profile, out-of-gamut pixels marked (0, 0, 0).
    Built on first use and kept, as Pressroom keeps one per profile and intent."""
    TYPE_RGB_8 = (4 << 16) | (3 << 3) | 1
    TYPE_Lab_16 = (10 << 16) | (3 << 3) | 2
    _checkers = {}

    def __init__(self, press_path, intent):
        lcms = ctypes.CDLL(ctypes.util.find_library("lcms2") or "liblcms2.so.2")
        lcms.cmsOpenProfileFromFile.restype = ctypes.c_void_p
        lcms.cmsCreate_sRGBProfile.restype = ctypes.c_void_p
        lcms.cmsCreateLab4Profile.restype = ctypes.c_void_p
        lcms.cmsCreateLab4Profile.argtypes = [ctypes.c_void_p]
        lcms.cmsCreateProofingTransform.restype = ctypes.c_void_p
        lcms.cmsCreateProofingTransform.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32,
                                                    ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32]
        lcms.cmsDoTransform.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32]
        lcms.cmsSetAlarmCodes((ctypes.c_uint16 * 16)())
        press = lcms.cmsOpenProfileFromFile(press_path.encode(), b"r")
        # Relative colorimetric proofing; flags cmsFLAGS_GAMUTCHECK | cmsFLAGS_NOCACHE.
        self.transform = lcms.cmsCreateProofingTransform(
            lcms.cmsCreate_sRGBProfile(), self.TYPE_RGB_8, lcms.cmsCreateLab4Profile(None), self.TYPE_Lab_16,
            press, intent, 1, 0x1000 | 0x0040)
        self.lcms = lcms

    @classmethod
    def shared(cls, press_path, intent):
        key = (press_path, intent)
        if key not in cls._checkers:
            cls._checkers[key] = cls(press_path, intent)
        return cls._checkers[key]

    def out_of_gamut_share(self, image):
        """The share of an 8-bit sRGB image's pixels outside the press gamut."""
        pixels = bytes(image.write_to_memory())
        count = image.width * image.height
        lab = ctypes.create_string_buffer(count * 6)
        self.lcms.cmsDoTransform(self.transform, pixels, lab, count)
        marked = pyvips.Image.new_from_memory(lab.raw, image.width, image.height, 3, "ushort")
        return (marked == 0).bandand().avg() / 255


def laplacian_variance(image):
    grey = image.colourspace("b-w")[0]
    mask = pyvips.Image.new_from_array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]])
    return grey.conv(mask, precision="float").deviate() ** 2


def derive():
    """Pressroom's derive makes the same outputs with less work, which this leaves plain: it
    decodes a JPEG at the smallest libjpeg scale covering 1600 px (vips_thumbnail keeps one
    scale more, so here the 12 MP photo is decoded whole), tags untagged pixels as sRGB rather
    than transforming sRGB to sRGB, resamples the thumbnail and the gamut sample from the
    1024 px analysis image, and blends the watermark only in the text's box."""
    probe(source)
    hashlib.sha256(source).hexdigest()
    # import_profile: the fallback for untagged pixels. Without it libvips 8.14 exports them
    # through XYZ and tints them (white becomes 250, 253, 253); Pressroom keeps them as sRGB.
    base = pyvips.Image.thumbnail_buffer(source, 1600, height=1600, size="down", import_profile="srgb",
                                         export_profile="srgb", intent="relative", fail_on="truncated").copy_memory()
    total = 0
    preview = watermark(fit(base, 1600, 1600), "PRESSROOM PROOF", 0.3, 0.6)
    preview = strip(preview.copy(xres=72 / 25.4, yres=72 / 25.4))
    total += len(preview.jpegsave_buffer(Q=85, optimize_coding=True, subsample_mode="auto"))
    thumb = strip(fit(base, 320, 320).copy(xres=72 / 25.4, yres=72 / 25.4))
    total += len(thumb.jpegsave_buffer(Q=80, optimize_coding=True, subsample_mode="auto"))
    laplacian_variance(fit(base, 1024, 1024))
    # The photobook page's press profile and intent (perceptual): the catalog's one CMYK product.
    GamutChecker.shared(os.path.join(profiles, "xcmyk-2017.icc"), 0).out_of_gamut_share(fit(base, 256, 256))
    return total


def render(trim_w, trim_h, bleed, profile, intent, save, preview):
    w, h = probe(source)
    # Geometry as in RenderPlan: centred crop to the product aspect (landscape source here).
    aspect = trim_w / trim_h
    crop_w, crop_h = (h * aspect, h) if w / h > aspect else (w, w / aspect)
    cx, cy = (w - crop_w) / 2 / w, (h - crop_h) / 2 / h
    cw, ch = crop_w / w, crop_h / h
    scale = min(1, max(trim_w / crop_w, trim_h / crop_h))
    box_w, box_h = min(w, math.ceil(w * scale)), min(h, math.ceil(h * scale))

    def content():
        image = pyvips.Image.thumbnail_buffer(source, box_w, height=box_h, size="down", intent=intent, fail_on="truncated")
        left, top = round(cx * image.width), round(cy * image.height)
        region = image.extract_area(left, top, round(cw * image.width), round(ch * image.height))
        # Within two pixels of the content size: pinned, not resampled again (as Imaging+Render).
        return region.embed(0, 0, trim_w, trim_h, extend="copy")

    # Mirrored bleed without the content in memory (as Imaging.mirroredBleed): the top from a
    # second pass over the first rows, the bottom from a cache of the last rows.
    region = content()
    middle = region.embed(bleed, 0, trim_w + 2 * bleed, trim_h, extend="mirror").tilecache(
        tile_width=trim_w + 2 * bleed, tile_height=16, max_tiles=(bleed + 15) // 16 + 32, access="sequential", threaded=True)
    top = content().extract_area(0, 0, trim_w, bleed).embed(bleed, 0, trim_w + 2 * bleed, bleed, extend="mirror").flip("vertical").copy_memory()
    bottom = middle.extract_area(0, trim_h - bleed, trim_w + 2 * bleed, bleed).flip("vertical")
    canvas = top.join(middle, "vertical").join(bottom, "vertical")
    canvas = canvas.icc_transform(profile, input_profile="srgb", intent=intent, black_point_compensation=True,
                                  embedded=True, depth=8)
    canvas = strip(canvas.copy(xres=300 / 25.4, yres=300 / 25.4))
    path = save(canvas)
    hashlib.sha256(open(path, "rb").read()).hexdigest()
    # Verification as in Imaging+Verify: the file read back sequentially, shrunk before converting.
    check = pyvips.Image.new_from_file(path, access="sequential", fail_on="truncated")
    check.get("icc-profile-data")
    pixels = check
    if check.get("vips-loader") == "jpegload":
        shrink = 8
        while shrink > 1 and max(trim_w, trim_h) // shrink < 512:
            shrink //= 2
        pixels = pyvips.Image.new_from_file(path, access="sequential", fail_on="truncated", shrink=shrink)
    sx, sy = pixels.width / check.width, pixels.height / check.height
    small = pixels.extract_area(round(bleed * sx), round(bleed * sy), round(trim_w * sx), round(trim_h * sy))
    small = fit(small, 256, 256).icc_transform("srgb", input_profile="srgb", intent="relative", embedded=True, depth=8).copy_memory()
    small.deviate()
    p = pyvips.Image.new_from_buffer(preview, "")
    p = p.extract_area(round(cx * p.width), round(cy * p.height), round(cw * p.width), round(ch * p.height))
    sw, sh = (24, max(1, round(24 / aspect))) if aspect >= 1 else (max(1, round(24 * aspect)), 24)
    (exact(small, sw, sh) - exact(p, sw, sh)).abs().avg()
    size = os.path.getsize(path)
    os.remove(path)
    return size


def save_to(saver, suffix, **options):
    """Encodes into a new temporary file (the master's spool file) and returns its path."""
    fd, path = tempfile.mkstemp(prefix="pyvips-master-", suffix=suffix)
    os.close(fd)
    saver(path, **options)
    return path


def preview_bytes():
    base = pyvips.Image.thumbnail_buffer(source, 1600, height=1600, size="down", import_profile="srgb", export_profile="srgb")
    return strip(watermark(base, "PRESSROOM PROOF", 0.3, 0.6)).jpegsave_buffer(Q=85)


preview = preview_bytes()
operations = {
    "derive": derive,
    "render-rgb": lambda: render(3000, 2400, 266, "srgb", "perceptual",
                                 lambda im: save_to(im.jpegsave, ".jpg", Q=92, subsample_mode="auto"), preview),
    "render-cmyk": lambda: render(2480, 2480, 35, os.path.join(profiles, "xcmyk-2017.icc"), "perceptual",
                                  lambda im: save_to(im.tiffsave, ".tif", compression="lzw", Q=90, predictor="horizontal"), preview),
}
times = []
size = 0
for _ in range(iterations):
    start = time.perf_counter()
    size = operations[op]()
    times.append((time.perf_counter() - start) * 1000)
times.sort()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"pyvips {op} median_ms={times[len(times) // 2]:.1f} min_ms={times[0]:.1f} peak_rss_kb={rss} bytes={size}")
