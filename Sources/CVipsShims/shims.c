/* For memrchr. */
#define _GNU_SOURCE
#include "CVipsShims.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

int pressroom_malloc_tuning(int threshold_from_environment, int arenas_from_environment) {
    int applied = 0;
#ifdef __GLIBC__
    /* libvips' pixel buffers span the image's width (a strip of a 20×30 in master is half a
     * megabyte) and are freed from many threads. glibc raises its mmap threshold to the largest
     * block freed so far, after which such buffers come from per-thread arenas that keep the
     * memory: peak RSS then grows with the master and carries over into verification. A fixed
     * threshold (glibc's initial one) keeps large blocks mapped and returned on free. */
    if (!threshold_from_environment && mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1) applied |= 1;
    /* glibc gives threads that meet a locked arena new ones, up to 8 per core, and image buffers
     * freed by libvips' threads stay scattered over them: a worker with full derive and render
     * lanes grew from 278 to 341 MB over 1,000 jobs (bench/load) and a render peaked 10 % higher
     * than with two arenas, which were no slower. */
    if (!arenas_from_environment && mallopt(M_ARENA_MAX, 2) == 1) applied |= 2;
#else
    (void)threshold_from_environment;
    (void)arenas_from_environment;
#endif
    return applied;
}

int pressroom_vips_tile_height(int rows) {
    /* libvips reads its geometry options only from a command line, so give it one. */
    char option[48];
    snprintf(option, sizeof option, "--vips-tile-height=%d", rows);
    char *arguments[] = { "pressroom", option, NULL };
    char **argv = arguments;
    int argc = 2;
    GOptionContext *context = g_option_context_new(NULL);
    GOptionGroup *group = g_option_group_new("vips", "libvips", "libvips options", NULL, NULL);
    vips_add_option_entries(group);
    g_option_context_set_main_group(context, group);
    GError *error = NULL;
    gboolean parsed = g_option_context_parse(context, &argc, &argv, &error);
    if (error)
        g_error_free(error);
    g_option_context_free(context);
    return parsed ? 0 : -1;
}

int pressroom_vips_init(const char *argv0) {
    (void)pressroom_malloc_tuning(getenv("MALLOC_MMAP_THRESHOLD_") != NULL, getenv("MALLOC_ARENA_MAX") != NULL);
    if (VIPS_INIT(argv0))
        return -1;
    /* Once, here, while no other thread uses libvips: it walks every operation class, and a
     * loader blocked before the first decode can never run. */
    vips_block_untrusted_set(TRUE);
    /* libvips sizes a sink's two write buffers and a sequential decode's line cache (3×) by
     * n_lines rows of the image's full width, and n_lines is the tile height, 128, for any
     * image wider than 256 px: at 9070 px CMYK that is 36 KB a row, about 14 MB per cache
     * and 9 MB per sink, so a print master's memory grew with its width. 32 rows still cover
     * what libvips needs (n_lines is at least the fat-strip height, 16, per thread) and the
     * 128-wide tiles of tiled operations get a quarter of the height; measured no slower.
     * The pixels are the same: tiling decides only what is computed when. */
    return pressroom_vips_tile_height(32);
}

void pressroom_vips_configure(int concurrency, int cache_max_operations, size_t cache_max_memory, int cache_max_files) {
    if (concurrency > 0)
        vips_concurrency_set(concurrency);
    vips_cache_set_max(cache_max_operations);
    vips_cache_set_max_mem(cache_max_memory);
    vips_cache_set_max_files(cache_max_files);
}

VipsImage *pressroom_vips_new_from_source(VipsSource *source, int sequential, int fail_on_error) {
    return vips_image_new_from_source(source, "",
        "access", sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM,
        "fail_on", fail_on_error ? VIPS_FAIL_ON_TRUNCATED : VIPS_FAIL_ON_NONE,
        NULL);
}

int pressroom_vips_thumbnail_source(VipsSource *source, VipsImage **out,
                                    int width, int height, VipsSize size,
                                    const char *import_profile, const char *export_profile,
                                    VipsIntent intent, int fail_on_truncated) {
    /* Unset profiles are left out rather than passed as NULL: libvips treats a
     * passed argument as set, whatever its value. */
    VipsFailOn fail_on = fail_on_truncated ? VIPS_FAIL_ON_TRUNCATED : VIPS_FAIL_ON_NONE;
    if (import_profile && export_profile)
        return vips_thumbnail_source(source, out, width, "height", height, "size", size,
            "import_profile", import_profile, "export_profile", export_profile, "intent", intent, "fail_on", fail_on, NULL);
    if (export_profile)
        return vips_thumbnail_source(source, out, width, "height", height, "size", size,
            "export_profile", export_profile, "intent", intent, "fail_on", fail_on, NULL);
    if (import_profile)
        return vips_thumbnail_source(source, out, width, "height", height, "size", size,
            "import_profile", import_profile, "intent", intent, "fail_on", fail_on, NULL);
    return vips_thumbnail_source(source, out, width, "height", height, "size", size,
        "intent", intent, "fail_on", fail_on, NULL);
}

VipsImage *pressroom_vips_jpegload_source_shrunk(VipsSource *source, int shrink) {
    VipsImage *out = NULL;
    if (vips_jpegload_source(source, &out, "shrink", shrink,
            "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL))
        return NULL;
    return out;
}

int pressroom_vips_thumbnail_image(VipsImage *in, VipsImage **out, int width, int height, VipsSize size,
                                   const char *export_profile, VipsIntent intent) {
    /* As in pressroom_vips_thumbnail_source: an unset profile is left out, not passed as NULL. */
    if (export_profile)
        return vips_thumbnail_image(in, out, width, "height", height, "size", size,
            "export_profile", export_profile, "intent", intent, NULL);
    return vips_thumbnail_image(in, out, width, "height", height, "size", size, "intent", intent, NULL);
}

int pressroom_vips_tag_srgb(VipsImage *in, VipsImage **out) {
    VipsBlob *profile = NULL;
    if (vips_profile_load("srgb", &profile, NULL))
        return -1;
    size_t length = 0;
    const void *data = vips_blob_get(profile, &length);
    int result = vips_copy(in, out, NULL);
    if (!result)
        vips_image_set_blob_copy(*out, VIPS_META_ICC_NAME, data, length);
    vips_area_unref(VIPS_AREA(profile));
    return result;
}

int pressroom_vips_autorot(VipsImage *in, VipsImage **out) {
    return vips_autorot(in, out, NULL);
}

int pressroom_vips_rot(VipsImage *in, VipsImage **out, VipsAngle angle) {
    return vips_rot(in, out, angle, NULL);
}

int pressroom_vips_flip(VipsImage *in, VipsImage **out, VipsDirection direction) {
    return vips_flip(in, out, direction, NULL);
}

int pressroom_vips_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height) {
    return vips_extract_area(in, out, left, top, width, height, NULL);
}

int pressroom_vips_resize(VipsImage *in, VipsImage **out, double hscale, double vscale) {
    return vips_resize(in, out, hscale, "vscale", vscale, "kernel", VIPS_KERNEL_LANCZOS3, NULL);
}

int pressroom_vips_embed(VipsImage *in, VipsImage **out, int x, int y, int width, int height,
                         VipsExtend extend, const double *background, int n) {
    if (n > 0) {
        VipsArrayDouble *bg = vips_array_double_new(background, n);
        int result = vips_embed(in, out, x, y, width, height, "extend", extend, "background", bg, NULL);
        vips_area_unref(VIPS_AREA(bg));
        return result;
    }
    return vips_embed(in, out, x, y, width, height, "extend", extend, NULL);
}

int pressroom_vips_insert(VipsImage *main, VipsImage *sub, VipsImage **out, int x, int y) {
    return vips_insert(main, sub, out, x, y, NULL);
}

int pressroom_vips_flatten(VipsImage *in, VipsImage **out, const double *background, int n) {
    VipsArrayDouble *bg = vips_array_double_new(background, n);
    int result = vips_flatten(in, out, "background", bg, NULL);
    vips_area_unref(VIPS_AREA(bg));
    return result;
}

int pressroom_vips_gaussblur(VipsImage *in, VipsImage **out, double sigma) {
    return vips_gaussblur(in, out, sigma, NULL);
}

int pressroom_vips_cast(VipsImage *in, VipsImage **out, VipsBandFormat format) {
    return vips_cast(in, out, format, NULL);
}

int pressroom_vips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space) {
    return vips_colourspace(in, out, space, NULL);
}

int pressroom_vips_icc_transform(VipsImage *in, VipsImage **out, const char *output_profile,
                                 const char *input_profile, VipsIntent intent, int black_point_compensation,
                                 int embedded, int depth) {
    return vips_icc_transform(in, out, output_profile,
        "input_profile", input_profile,
        "intent", intent,
        "black_point_compensation", black_point_compensation ? TRUE : FALSE,
        "embedded", embedded ? TRUE : FALSE,
        "depth", depth,
        NULL);
}

int pressroom_vips_set_resolution(VipsImage *in, VipsImage **out, double xres, double yres) {
    return vips_copy(in, out, "xres", xres, "yres", yres, NULL);
}

int pressroom_vips_limit_threads(VipsImage *in, VipsImage **out, int threads) {
    if (vips_copy(in, out, NULL))
        return -1;
    /* A sink reads this from the image it computes (vips_image_get_concurrency, which the
     * pipeline passes down from its inputs): it caps that pipeline's threads and leaves the
     * process-wide concurrency, which the derives running beside it use, alone. */
    vips_image_set_int(*out, VIPS_META_CONCURRENCY, threads);
    return 0;
}

int pressroom_vips_strip_metadata(VipsImage *in, VipsImage **out) {
    if (vips_copy(in, out, NULL))
        return -1;
    /* vips_copy gives a new image whose metadata table we may edit; header fields are not
     * in the table, so vips_image_remove leaves them alone. */
    char **names = vips_image_get_fields(*out);
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], VIPS_META_ICC_NAME) != 0)
            vips_image_remove(*out, names[i]);
    }
    g_strfreev(names);
    return 0;
}

/* Where vips_gravity puts a w×h image in a W×H canvas: the same integer arithmetic. */
static void pressroom_gravity_offset(VipsCompassDirection direction, int W, int H, int w, int h, int *x, int *y) {
    switch (direction) {
    case VIPS_COMPASS_DIRECTION_NORTH: *x = (W - w) / 2; *y = 0; break;
    case VIPS_COMPASS_DIRECTION_EAST: *x = W - w; *y = (H - h) / 2; break;
    case VIPS_COMPASS_DIRECTION_SOUTH: *x = (W - w) / 2; *y = H - h; break;
    case VIPS_COMPASS_DIRECTION_WEST: *x = 0; *y = (H - h) / 2; break;
    case VIPS_COMPASS_DIRECTION_NORTH_EAST: *x = W - w; *y = 0; break;
    case VIPS_COMPASS_DIRECTION_SOUTH_EAST: *x = W - w; *y = H - h; break;
    case VIPS_COMPASS_DIRECTION_SOUTH_WEST: *x = 0; *y = H - h; break;
    case VIPS_COMPASS_DIRECTION_NORTH_WEST: *x = 0; *y = 0; break;
    default: *x = (W - w) / 2; *y = (H - h) / 2; break;
    }
}

int pressroom_vips_text_watermark(VipsImage *in, VipsImage **out, const char *text, const char *font,
                                  double width_fraction, double opacity, VipsCompassDirection placement) {
    VipsImage *base = vips_image_new();
    VipsImage **t = (VipsImage **) vips_object_local_array(VIPS_OBJECT(base), 8);
    int width = (int) (in->Xsize * width_fraction);
    if (width < 1)
        width = 1;
    double white[4] = {255, 255, 255, 255};
    int result = -1;
    if (vips_text(&t[0], text, "font", font, "width", width, "align", VIPS_ALIGN_CENTRE, NULL))
        goto done;
    /* Scale the text to the requested width so the watermark does not depend on the font's size. */
    double scale = (double) width / t[0]->Xsize;
    if (vips_resize(t[0], &t[1], scale, NULL))
        goto done;
    if (vips_linear1(t[1], &t[2], opacity, 0.0, "uchar", TRUE, NULL))
        goto done;
    /* Blend only the box the text covers, placed as vips_gravity would place it, and insert it
     * back: outside the box the mask is 0, where the blend gives `in` back exactly, so the rest
     * of the image is copied rather than blended pixel by pixel (same bytes, half the work). */
    int x, y;
    pressroom_gravity_offset(placement, in->Xsize, in->Ysize, t[2]->Xsize, t[2]->Ysize, &x, &y);
    int left = x > 0 ? x : 0, top = y > 0 ? y : 0;
    int right = x + t[2]->Xsize < in->Xsize ? x + t[2]->Xsize : in->Xsize;
    int bottom = y + t[2]->Ysize < in->Ysize ? y + t[2]->Ysize : in->Ysize;
    if (right <= left || bottom <= top) {
        result = vips_copy(in, out, NULL);
        goto done;
    }
    if (vips_extract_area(t[2], &t[3], left - x, top - y, right - left, bottom - top, NULL))
        goto done;
    if (vips_extract_area(in, &t[4], left, top, right - left, bottom - top, NULL))
        goto done;
    if (vips_black(&t[5], right - left, bottom - top, "bands", in->Bands, NULL))
        goto done;
    if (vips_linear(t[5], &t[6], white, white, in->Bands > 4 ? 4 : in->Bands, "uchar", TRUE, NULL))
        goto done;
    if (vips_ifthenelse(t[3], t[6], t[4], &t[7], "blend", TRUE, NULL))
        goto done;
    result = vips_insert(in, t[7], out, left, top, NULL);
done:
    g_object_unref(base);
    return result;
}

int pressroom_vips_image_watermark(VipsImage *in, VipsImage **out, const void *buffer, size_t length,
                                   double width_fraction, double opacity, VipsCompassDirection placement) {
    VipsImage *base = vips_image_new();
    VipsImage **t = (VipsImage **) vips_object_local_array(VIPS_OBJECT(base), 13);
    int width = (int) (in->Xsize * width_fraction);
    if (width < 1)
        width = 1;
    /* Scale RGB by 1 and alpha by the opacity. */
    double scale[4] = {1, 1, 1, opacity};
    double offset[4] = {0, 0, 0, 0};
    int result = -1;
    t[0] = vips_image_new_from_buffer(buffer, length, "",
        "access", VIPS_ACCESS_RANDOM, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
    if (!t[0])
        goto done;
    /* Decode now rather than lazily: the caller's buffer is only guaranteed for this call. */
    t[1] = vips_image_copy_memory(t[0]);
    if (!t[1])
        goto done;
    /* Any watermark (grey, 16-bit, palette...) becomes 8-bit sRGB with alpha. */
    if (vips_colourspace(t[1], &t[2], VIPS_INTERPRETATION_sRGB, NULL))
        goto done;
    if (vips_cast(t[2], &t[3], VIPS_FORMAT_UCHAR, NULL))
        goto done;
    if (vips_image_hasalpha(t[3]) ? vips_extract_band(t[3], &t[4], 0, "n", 4, NULL) : vips_addalpha(t[3], &t[4], NULL))
        goto done;
    /* Resize premultiplied, so transparent pixels' colours do not bleed into the edges. */
    if (vips_premultiply(t[4], &t[5], NULL))
        goto done;
    if (vips_resize(t[5], &t[6], (double) width / t[4]->Xsize, "kernel", VIPS_KERNEL_LANCZOS3, NULL))
        goto done;
    if (vips_unpremultiply(t[6], &t[7], NULL))
        goto done;
    if (vips_linear(t[7], &t[8], scale, offset, 4, "uchar", TRUE, NULL))
        goto done;
    /* Black with zero alpha around it: a transparent canvas the size of the base. */
    if (vips_gravity(t[8], &t[9], placement, in->Xsize, in->Ysize, "extend", VIPS_EXTEND_BLACK, NULL))
        goto done;
    if (vips_composite2(in, t[9], &t[10], VIPS_BLEND_MODE_OVER, NULL))
        goto done;
    /* An opaque base gains an (all-opaque) alpha band in the composite: drop it. */
    if (vips_extract_band(t[10], &t[11], 0, "n", in->Bands, NULL))
        goto done;
    if (vips_cast(t[11], &t[12], VIPS_FORMAT_UCHAR, NULL))
        goto done;
    result = vips_copy(t[12], out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
done:
    g_object_unref(base);
    return result;
}

int pressroom_vips_avg(VipsImage *in, double *out) {
    return vips_avg(in, out, NULL);
}

int pressroom_vips_deviate(VipsImage *in, double *out) {
    return vips_deviate(in, out, NULL);
}

int pressroom_vips_laplacian_variance(VipsImage *in, double *out) {
    VipsImage *base = vips_image_new();
    VipsImage **t = (VipsImage **) vips_object_local_array(VIPS_OBJECT(base), 4);
    int result = -1;
    double deviation = 0;
    if (vips_colourspace(in, &t[0], VIPS_INTERPRETATION_B_W, NULL))
        goto done;
    if (vips_extract_band(t[0], &t[1], 0, NULL))
        goto done;
    t[2] = vips_image_new_matrixv(3, 3, 0.0, -1.0, 0.0, -1.0, 4.0, -1.0, 0.0, -1.0, 0.0);
    if (!t[2])
        goto done;
    if (vips_conv(t[1], &t[3], t[2], "precision", VIPS_PRECISION_FLOAT, NULL))
        goto done;
    if (vips_deviate(t[3], &deviation, NULL))
        goto done;
    *out = deviation * deviation;
    result = 0;
done:
    g_object_unref(base);
    return result;
}

int pressroom_vips_mean_abs_difference(VipsImage *a, VipsImage *b, double *out) {
    VipsImage *base = vips_image_new();
    VipsImage **t = (VipsImage **) vips_object_local_array(VIPS_OBJECT(base), 2);
    int result = -1;
    if (vips_subtract(a, b, &t[0], NULL))
        goto done;
    if (vips_abs(t[0], &t[1], NULL))
        goto done;
    result = vips_avg(t[1], out, NULL);
done:
    g_object_unref(base);
    return result;
}

int pressroom_vips_jpegsave_target(VipsImage *in, VipsTarget *target, int quality,
                                   int interlace, int no_subsample, int optimize_coding) {
    return vips_jpegsave_target(in, target,
        "Q", quality,
        "interlace", interlace ? TRUE : FALSE,
        "subsample_mode", no_subsample ? VIPS_FOREIGN_SUBSAMPLE_OFF : VIPS_FOREIGN_SUBSAMPLE_AUTO,
        "optimize_coding", optimize_coding ? TRUE : FALSE,
        NULL);
}

int pressroom_vips_pngsave_target(VipsImage *in, VipsTarget *target, int compression) {
    return vips_pngsave_target(in, target, "compression", compression, NULL);
}

int pressroom_vips_tiffsave_target(VipsImage *in, VipsTarget *target,
                                   VipsForeignTiffCompression compression, int quality, int predictor) {
    /* Strips of 16 rows, a fat strip (libvips' default is 128): the encoder holds a strip and
     * libtiff a buffer of one encoded strip, 9 MB between them for a 9070 px CMYK master,
     * and the verification reading it back a decoded one. Smaller strips even compress a
     * little better (LZW's table restarts); the pixels are the same. */
    return vips_tiffsave_target(in, target,
        "tile_height", 16,
        "compression", compression,
        "Q", quality,
        "predictor", predictor ? VIPS_FOREIGN_TIFF_PREDICTOR_HORIZONTAL : VIPS_FOREIGN_TIFF_PREDICTOR_NONE,
        NULL);
}

VipsTarget *pressroom_vips_memory_target_new(void) {
    return vips_target_new_to_memory();
}

const void *pressroom_vips_memory_target_bytes(VipsTarget *target, size_t *length) {
    *length = 0;
    return target->blob ? vips_blob_get(target->blob, length) : NULL;
}

/* A file target that hands every byte appended in order to a digest callback while it writes. */
typedef struct {
    int fd;
    gint64 position;
    gint64 length;
    gint64 digested;
    int rewrote;
    pressroom_digest_fn digest;
    void *context;
} pressroom_spool;

static gint64 pressroom_spool_write(VipsTargetCustom *target, const void *data, gint64 length, pressroom_spool *spool) {
    (void) target;
    const char *bytes = data;
    gint64 done = 0;
    while (done < length) {
        ssize_t n = pwrite(spool->fd, bytes + done, (size_t) (length - done), (off_t) (spool->position + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += n;
    }
    /* Bytes that continue the digested prefix are hashed now; a write anywhere else (libtiff
     * patches its header once the directory is written) means the file must be hashed again. */
    if (!spool->rewrote && spool->position == spool->digested) {
        spool->digest(spool->context, data, (size_t) length);
        spool->digested += length;
    } else {
        spool->rewrote = 1;
    }
    spool->position += length;
    if (spool->position > spool->length)
        spool->length = spool->position;
    return length;
}

static gint64 pressroom_spool_read(VipsTargetCustom *target, void *data, gint64 length, pressroom_spool *spool) {
    (void) target;
    ssize_t n;
    do {
        n = pread(spool->fd, data, (size_t) length, (off_t) spool->position);
    } while (n < 0 && errno == EINTR);
    if (n > 0)
        spool->position += n;
    return n;
}

static gint64 pressroom_spool_seek(VipsTargetCustom *target, gint64 offset, int whence, pressroom_spool *spool) {
    (void) target;
    gint64 base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? spool->position : spool->length;
    if (base + offset < 0)
        return -1;
    spool->position = base + offset;
    return spool->position;
}

VipsTarget *pressroom_spool_target_new(int fd, pressroom_digest_fn digest, void *context) {
    VipsTargetCustom *target = vips_target_custom_new();
    pressroom_spool *spool = g_new0(pressroom_spool, 1);
    spool->fd = fd;
    spool->digest = digest;
    spool->context = context;
    g_object_set_data_full(G_OBJECT(target), "pressroom-spool", spool, g_free);
    g_signal_connect(target, "write", G_CALLBACK(pressroom_spool_write), spool);
    g_signal_connect(target, "read", G_CALLBACK(pressroom_spool_read), spool);
    g_signal_connect(target, "seek", G_CALLBACK(pressroom_spool_seek), spool);
    return VIPS_TARGET(target);
}

int pressroom_spool_target_rewrote(VipsTarget *target) {
    pressroom_spool *spool = g_object_get_data(G_OBJECT(target), "pressroom-spool");
    return spool->rewrote || spool->digested != spool->length;
}

gint64 pressroom_spool_target_length(VipsTarget *target) {
    pressroom_spool *spool = g_object_get_data(G_OBJECT(target), "pressroom-spool");
    return spool->length;
}

int pressroom_vips_sequential_cache(VipsImage *in, VipsImage **out, int tile_height, int max_tiles) {
    return vips_tilecache(in, out,
        "tile_width", in->Xsize, "tile_height", tile_height, "max_tiles", max_tiles,
        "access", VIPS_ACCESS_SEQUENTIAL, "threaded", TRUE, NULL);
}

VipsImage *pressroom_vips_new_from_file(const char *path, int sequential, int shrink) {
    if (shrink > 1)
        return vips_image_new_from_file(path,
            "access", sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM,
            "fail_on", VIPS_FAIL_ON_TRUNCATED, "shrink", shrink, NULL);
    return vips_image_new_from_file(path,
        "access", sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM,
        "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
}

int pressroom_vips_join(VipsImage *top, VipsImage *bottom, VipsImage **out) {
    return vips_join(top, bottom, out, VIPS_DIRECTION_VERTICAL, NULL);
}

int pressroom_vips_shrink(VipsImage *in, VipsImage **out, double hshrink, double vshrink) {
    return vips_shrink(in, out, hshrink, vshrink, NULL);
}

/* Header fields vips_image_get_fields() lists but which are not metadata. */
static int pressroom_is_header_field(const char *name) {
    static const char *header[] = { "width", "height", "bands", "format", "coding", "interpretation",
        "xoffset", "yoffset", "xres", "yres", "filename", "mode", "scale", "offset", NULL };
    for (int i = 0; header[i]; i++)
        if (strcmp(name, header[i]) == 0)
            return 1;
    return 0;
}

static void pressroom_free_memory(VipsImage *image, void *memory) {
    (void) image;
    g_free(memory);
}

VipsImage *pressroom_vips_copy_memory(VipsImage *in) {
    /* vips_image_copy_memory() in libvips 8.14 can return an image even when the
     * decode failed (fail_on errors are lost), so render with write_to_memory,
     * which does report them, and wrap the pixels with the input's metadata. */
    size_t length = 0;
    void *memory = vips_image_write_to_memory(in, &length);
    if (!memory)
        return NULL;
    VipsImage *raw = vips_image_new_from_memory(memory, length, in->Xsize, in->Ysize, in->Bands, in->BandFmt);
    if (!raw) {
        g_free(memory);
        return NULL;
    }
    g_signal_connect(raw, "postclose", G_CALLBACK(pressroom_free_memory), memory);
    VipsImage *out = NULL;
    int result = vips_copy(raw, &out, "interpretation", in->Type, "xres", in->Xres, "yres", in->Yres, NULL);
    g_object_unref(raw);
    if (result)
        return NULL;
    char **names = vips_image_get_fields(in);
    for (int i = 0; names[i]; i++) {
        /* All metadata, including "vips-sequential": with that hint vips_shrinkv takes its
         * line-cache path, about 4× faster on a 1600 px image than tile requests. */
        if (!pressroom_is_header_field(names[i])) {
            GValue value = { 0 };
            if (vips_image_get_typeof(in, names[i]) != 0 && vips_image_get(in, names[i], &value) == 0) {
                vips_image_set(out, names[i], &value);
                g_value_unset(&value);
            }
        }
    }
    g_strfreev(names);
    return out;
}

struct pressroom_kill_flag {
    int references;
    int fired;
    int yields;
};

/* Interactive image calls (derives, probes) running now in this process. */
static int pressroom_foreground_calls;

void pressroom_foreground_enter(void) {
    __atomic_add_fetch(&pressroom_foreground_calls, 1, __ATOMIC_SEQ_CST);
}

void pressroom_foreground_leave(void) {
    __atomic_sub_fetch(&pressroom_foreground_calls, 1, __ATOMIC_SEQ_CST);
}

void pressroom_kill_flag_set_yields(pressroom_kill_flag *flag, int yields) {
    __atomic_store_n(&flag->yields, yields, __ATOMIC_SEQ_CST);
}

pressroom_kill_flag *pressroom_kill_flag_new(void) {
    pressroom_kill_flag *flag = calloc(1, sizeof(*flag));
    if (flag)
        flag->references = 1;
    return flag;
}

void pressroom_kill_flag_fire(pressroom_kill_flag *flag) {
    __atomic_store_n(&flag->fired, 1, __ATOMIC_SEQ_CST);
}

int pressroom_kill_flag_fired(pressroom_kill_flag *flag) {
    return __atomic_load_n(&flag->fired, __ATOMIC_SEQ_CST);
}

void pressroom_kill_flag_unref(pressroom_kill_flag *flag) {
    if (__atomic_sub_fetch(&flag->references, 1, __ATOMIC_SEQ_CST) == 0)
        free(flag);
}

/* Longest a background pipeline waits at one tick for interactive work to end. */
#define PRESSROOM_YIELD_MAX_US 1000000
#define PRESSROOM_YIELD_STEP_US 2000

static void pressroom_watch_eval(VipsImage *image, VipsProgress *progress, void *data) {
    (void) progress;
    pressroom_kill_flag *flag = (pressroom_kill_flag *) data;
    /* A background pipeline (a print master) pauses between tiles while an
     * interactive call runs, so a derive gets the cores; bounded, so a
     * stream of derives slows masters but never starves them. */
    if (__atomic_load_n(&flag->yields, __ATOMIC_SEQ_CST)) {
        for (int waited = 0; waited < PRESSROOM_YIELD_MAX_US
                 && __atomic_load_n(&pressroom_foreground_calls, __ATOMIC_SEQ_CST) > 0
                 && !pressroom_kill_flag_fired(flag); waited += PRESSROOM_YIELD_STEP_US)
            g_usleep(PRESSROOM_YIELD_STEP_US);
    }
    if (pressroom_kill_flag_fired(flag))
        vips_image_set_kill(image, TRUE);
}

static void pressroom_watch_release(gpointer data, GClosure *closure) {
    (void) closure;
    pressroom_kill_flag_unref((pressroom_kill_flag *) data);
}

void pressroom_vips_watch(VipsImage *image, pressroom_kill_flag *flag) {
    __atomic_add_fetch(&flag->references, 1, __ATOMIC_SEQ_CST);
    vips_image_set_progress(image, TRUE);
    g_signal_connect_data(image, "eval", G_CALLBACK(pressroom_watch_eval), flag, pressroom_watch_release, 0);
}

const void *pressroom_memrchr(const void *bytes, int byte, size_t length) {
    return memrchr(bytes, byte, length);
}
