#include <lcms2.h>

/* lcms2's pixel-format constants are function-like macro expressions Swift cannot import. */
static const cmsUInt32Number pressroom_TYPE_RGB_8 = TYPE_RGB_8;
static const cmsUInt32Number pressroom_TYPE_RGB_16 = TYPE_RGB_16;
static const cmsUInt32Number pressroom_TYPE_CMYK_8 = TYPE_CMYK_8;
static const cmsUInt32Number pressroom_TYPE_GRAY_8 = TYPE_GRAY_8;
static const cmsUInt32Number pressroom_TYPE_Lab_16 = TYPE_Lab_16;
static const cmsUInt32Number pressroom_TYPE_Lab_DBL = TYPE_Lab_DBL;
