#ifndef PRESSROOM_CVIPSSHIMS_H
#define PRESSROOM_CVIPSSHIMS_H
/* Fixed-arity wrappers around libvips' variadic operations, which Swift cannot call.
 * Every function returns 0 on success and -1 on failure (the message is then in
 * vips_error_buffer()), except where noted. Output images are new references the
 * caller must g_object_unref exactly once. */
#include <vips/vips.h>

/// glibc malloc settings for image work, applied by pressroom_vips_init: a fixed mmap
/// threshold (128 KiB) and at most 2 arenas, each unless the environment set it
/// (MALLOC_MMAP_THRESHOLD_, MALLOC_ARENA_MAX: init passes whether they are set).
/// Returns a bitmask of what it applied (1 threshold, 2 arenas); 0 off glibc.
int pressroom_malloc_tuning(int threshold_from_environment, int arenas_from_environment);
/** Initialises libvips once and blocks its untrusted loaders; returns 0 on success (wraps the VIPS_INIT macro). */
int pressroom_vips_init(const char *argv0);
/** Sets libvips' tile height (its hidden --vips-tile-height option), which also sizes the
 *  rows of its sink buffers and sequential line caches; pressroom_vips_init sets 32. */
int pressroom_vips_tile_height(int rows);

/** Applies process-wide limits: worker threads and operation cache bounds. */
void pressroom_vips_configure(int concurrency, int cache_max_operations, size_t cache_max_memory, int cache_max_files);

/** Opens an image lazily from a libvips source (header only until pixels are needed): memory
 *  (vips_source_new_from_memory, not copied: the bytes must outlive the image) or a file.
 *  The image holds its own reference to the source. Returns NULL on error. */
VipsImage *pressroom_vips_new_from_source(VipsSource *source, int sequential, int fail_on_error);

/** Shrink-on-load thumbnail from a source with auto-rotation and colour handling. */
int pressroom_vips_thumbnail_source(VipsSource *source, VipsImage **out,
                                    int width, int height, VipsSize size,
                                    const char *import_profile, const char *export_profile,
                                    VipsIntent intent, int fail_on_truncated);

/** Opens a JPEG source decoded at 1/shrink scale (2, 4 or 8: libjpeg's scaled IDCT), sequentially and
 *  failing on truncation. Returns NULL on error. */
VipsImage *pressroom_vips_jpegload_source_shrunk(VipsSource *source, int shrink);

/** vips_thumbnail of an image already open (e.g. shrunk on load): fit, auto-rotation, colour handling.
 *  `export_profile` may be NULL (the output stays in the processing space, sRGB or B_W). */
int pressroom_vips_thumbnail_image(VipsImage *in, VipsImage **out, int width, int height, VipsSize size,
                                   const char *export_profile, VipsIntent intent);

/** A copy of `in` carrying libvips' built-in sRGB profile, the one an export to "srgb" attaches. */
int pressroom_vips_tag_srgb(VipsImage *in, VipsImage **out);

int pressroom_vips_autorot(VipsImage *in, VipsImage **out);
int pressroom_vips_rot(VipsImage *in, VipsImage **out, VipsAngle angle);
int pressroom_vips_flip(VipsImage *in, VipsImage **out, VipsDirection direction);
int pressroom_vips_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height);
/** Resizes with separate horizontal/vertical scales (lanczos3). */
int pressroom_vips_resize(VipsImage *in, VipsImage **out, double hscale, double vscale);
/** Places `in` at (x, y) in a width×height canvas; extend is a VipsExtend, background has n values. */
int pressroom_vips_embed(VipsImage *in, VipsImage **out, int x, int y, int width, int height,
                         VipsExtend extend, const double *background, int n);
int pressroom_vips_insert(VipsImage *main, VipsImage *sub, VipsImage **out, int x, int y);
int pressroom_vips_flatten(VipsImage *in, VipsImage **out, const double *background, int n);
int pressroom_vips_gaussblur(VipsImage *in, VipsImage **out, double sigma);
int pressroom_vips_cast(VipsImage *in, VipsImage **out, VipsBandFormat format);
int pressroom_vips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space);
/** Converts between ICC profiles (file path or built-in name); `input_profile` is the fallback when
 *  `embedded` is set and the image carries none. */
int pressroom_vips_icc_transform(VipsImage *in, VipsImage **out, const char *output_profile,
                                 const char *input_profile, VipsIntent intent, int black_point_compensation,
                                 int embedded, int depth);
/** Sets the resolution header (pixels per millimetre) so print tools see the intended DPI. */
int pressroom_vips_set_resolution(VipsImage *in, VipsImage **out, double xres, double yres);
/** Copies the image without any metadata except the ICC profile (EXIF, XMP, IPTC, comments...). */
int pressroom_vips_strip_metadata(VipsImage *in, VipsImage **out);
int pressroom_vips_limit_threads(VipsImage *in, VipsImage **out, int threads);
/** Blends a text watermark (white, given opacity 0..1) into a uchar sRGB image at a gravity position. */
int pressroom_vips_text_watermark(VipsImage *in, VipsImage **out, const char *text, const char *font,
                                  double width_fraction, double opacity, VipsCompassDirection placement);

/** Blends an image watermark (encoded bytes, any format libvips loads) into a uchar sRGB image:
 *  resized to width_fraction of the image width, its alpha multiplied by opacity 0..1, placed at a
 *  gravity position. The watermark is decoded during the call, so the buffer need only outlive it.
 *  The output has the input's band count. */
int pressroom_vips_image_watermark(VipsImage *in, VipsImage **out, const void *buffer, size_t length,
                                   double width_fraction, double opacity, VipsCompassDirection placement);

/** Renders an image into memory, keeping its metadata; NULL (with the error set) if any pixel failed. */
VipsImage *pressroom_vips_copy_memory(VipsImage *in);

int pressroom_vips_avg(VipsImage *in, double *out);
int pressroom_vips_deviate(VipsImage *in, double *out);
/** Variance of the Laplacian of the luminance: high for sharp images, low for blurred ones. */
int pressroom_vips_laplacian_variance(VipsImage *in, double *out);
/** Mean absolute per-pixel difference between two images of the same size and bands. */
int pressroom_vips_mean_abs_difference(VipsImage *a, VipsImage *b, double *out);

/** Encoders writing to a target (a file spool, or memory for small derivatives). */
int pressroom_vips_jpegsave_target(VipsImage *in, VipsTarget *target, int quality,
                                   int interlace, int no_subsample, int optimize_coding);
int pressroom_vips_pngsave_target(VipsImage *in, VipsTarget *target, int compression);
int pressroom_vips_tiffsave_target(VipsImage *in, VipsTarget *target,
                                   VipsForeignTiffCompression compression, int quality, int predictor);
/** A target collecting the encoded bytes in memory. */
VipsTarget *pressroom_vips_memory_target_new(void);
/** The bytes an ended memory target collected, owned by the target; NULL when none. */
const void *pressroom_vips_memory_target_bytes(VipsTarget *target, size_t *length);

/** Receives encoded bytes in file order as they are written. */
typedef void (*pressroom_digest_fn)(void *context, const void *data, size_t length);
/** A target writing to `fd` (opened read-write, positioned anywhere: writes use absolute offsets).
 *  Bytes appended in order go to `digest` as they are written, so the file need not be read
 *  again to hash it; libtiff's read and seek requests are served from the file. */
VipsTarget *pressroom_spool_target_new(int fd, pressroom_digest_fn digest, void *context);
/** 1 when the digest missed bytes (the encoder went back and patched the file): hash the file instead. */
int pressroom_spool_target_rewrote(VipsTarget *target);
/** Bytes in the file. */
gint64 pressroom_spool_target_length(VipsTarget *target);

/** A cache of the last `max_tiles` full-width strips of `tile_height` rows, for sequential
 *  pipelines that reach a bounded distance back (a mirrored bleed). */
int pressroom_vips_sequential_cache(VipsImage *in, VipsImage **out, int tile_height, int max_tiles);
/** Opens a file lazily, failing on truncation; `shrink` > 1 is JPEG shrink-on-load. NULL on error. */
VipsImage *pressroom_vips_new_from_file(const char *path, int sequential, int shrink);
/** `bottom` below `top` (same width). */
int pressroom_vips_join(VipsImage *top, VipsImage *bottom, VipsImage **out);
/** Box-filter shrink by integer-ish factors (cheap; for measurements, not outputs). */
int pressroom_vips_shrink(VipsImage *in, VipsImage **out, double hshrink, double vshrink);

/* Cancellation. A flag the Swift side fires when a job is cancelled (timeout, shutdown), shared
 * with every image it watches; reference counted, since libvips may keep a watched image (and
 * its signal connection) alive after the Swift side is done. */
typedef struct pressroom_kill_flag pressroom_kill_flag;
/** A new flag holding one reference, not fired. */
pressroom_kill_flag *pressroom_kill_flag_new(void);
/** Fires the flag (thread-safe, idempotent). */
void pressroom_kill_flag_fire(pressroom_kill_flag *flag);
/** 1 once fired. */
int pressroom_kill_flag_fired(pressroom_kill_flag *flag);
void pressroom_kill_flag_unref(pressroom_kill_flag *flag);
/** With 1, every pipeline watched with the flag pauses between tiles while
 *  foreground calls run (up to 1 s a tick): background work yields the cores. */
void pressroom_kill_flag_set_yields(pressroom_kill_flag *flag, int yields);
/** Brackets an interactive call (a derive) that background pipelines yield to. */
void pressroom_foreground_enter(void);
void pressroom_foreground_leave(void);
/** Watches a pipeline's root image: images made from it later inherit its progress reporting, so
 *  every sink computing any of them ticks an "eval" on it; once the flag is fired, the tick calls
 *  vips_image_set_kill() on the root and the next region prepared from it fails, ending the sink. */
void pressroom_vips_watch(VipsImage *image, pressroom_kill_flag *flag);

/** The last occurrence of `byte` in the first `length` bytes, or NULL (glibc's vectorised memrchr). */
const void *pressroom_memrchr(const void *bytes, int byte, size_t length);

#endif
